// SPDX-License-Identifier: GPL-2.0-only
/*
 * The loop transport: frontend and backend in one kernel. The backend
 * serves a connection through the misc device /dev/paradice-loop (see
 * include/paradice/pd_loop.h): one open file is one connection, each
 * read(2) takes one request, each write(2) gives one reply or event, as
 * /dev/fuse does.
 *
 * Besides moving messages, the loop transport lets the backend name the
 * real file behind a handle (PD_LOOP_IOC_ATTACH), so that mmap of a
 * forwarded file is served by the real driver itself.
 */
#include <linux/file.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include <paradice/pd_loop.h>
#include "front.h"

struct pd_loop {
	struct pd_conn *conn;		/* reference */
	/* Protects queue and closed. */
	spinlock_t lock;
	/* Requests not yet read; the queue holds a reference on each, so a
	 * request answered (or given up) before it was read stays valid.
	 */
	struct list_head queue;
	bool closed;
	wait_queue_head_t wq;		/* readers wait for requests */
	/* handle -> struct file * (a reference), until the frontend takes
	 * it for the file the handle's reply creates
	 */
	struct xarray real_files;
};

static int loop_send(struct pd_conn *conn, struct pd_req *req)
{
	struct pd_loop *lp = conn->tp_priv;

	spin_lock(&lp->lock);
	if (lp->closed) {
		spin_unlock(&lp->lock);
		return -EIO;
	}
	refcount_inc(&req->ref);
	list_add_tail(&req->queue, &lp->queue);
	spin_unlock(&lp->lock);
	wake_up_interruptible(&lp->wq);
	return 0;
}

static bool loop_unsend(struct pd_conn *conn, struct pd_req *req)
{
	struct pd_loop *lp = conn->tp_priv;
	bool queued;

	spin_lock(&lp->lock);
	queued = !list_empty(&req->queue);
	list_del_init(&req->queue);
	spin_unlock(&lp->lock);
	if (queued)
		pd_req_put(req);	/* the queue's reference */
	return queued;
}

static struct file *loop_take_real_file(struct pd_conn *conn, u32 handle)
{
	struct pd_loop *lp = conn->tp_priv;

	return xa_erase(&lp->real_files, handle);
}

static void loop_destroy(struct pd_conn *conn)
{
	struct pd_loop *lp = conn->tp_priv;

	xa_destroy(&lp->real_files);
	kfree(lp);
}

static const struct pd_transport_ops loop_ops = {
	.name = "loop",
	.features = PD_WIRE_FEAT_POLL_EVENTS | PD_WIRE_FEAT_FASYNC |
		    PD_WIRE_FEAT_NEWFD | PD_WIRE_FEAT_CANCEL |
		    PD_WIRE_FEAT_REVOKE,
	.send = loop_send,
	.unsend = loop_unsend,
	.take_real_file = loop_take_real_file,
	.destroy = loop_destroy,
};

static int loop_open(struct inode *inode, struct file *file)
{
	struct pd_loop *lp = kzalloc(sizeof(*lp), GFP_KERNEL);

	if (!lp)
		return -ENOMEM;
	spin_lock_init(&lp->lock);
	INIT_LIST_HEAD(&lp->queue);
	init_waitqueue_head(&lp->wq);
	xa_init(&lp->real_files);
	lp->conn = pd_conn_create(&loop_ops, lp);
	if (!lp->conn) {
		kfree(lp);
		return -ENOMEM;
	}
	file->private_data = lp;
	stream_open(inode, file);
	pd_conn_start(lp->conn);
	return 0;
}

/*
 * The backend closed the connection. Stop the queue first (so nothing new
 * is sent), then let the connection fail what is in flight and remove its
 * nodes. The loop state lives on with the connection (loop_destroy): files
 * still open may call the transport, which then finds it closed.
 */
static int loop_release(struct inode *inode, struct file *file)
{
	struct pd_loop *lp = file->private_data;
	struct pd_req *req, *tmp;
	struct file *real;
	unsigned long h;
	LIST_HEAD(drop);

	spin_lock(&lp->lock);
	lp->closed = true;
	list_splice_init(&lp->queue, &drop);
	spin_unlock(&lp->lock);
	list_for_each_entry_safe(req, tmp, &drop, queue) {
		list_del_init(&req->queue);
		pd_req_put(req);	/* the queue's reference */
	}

	pd_conn_close(lp->conn);
	xa_for_each(&lp->real_files, h, real) {
		/* whoever erases an entry owns its reference */
		real = xa_erase(&lp->real_files, h);
		if (real)
			fput(real);
	}
	pd_conn_put(lp->conn);
	return 0;
}

static ssize_t loop_read(struct file *file, char __user *buf, size_t count,
			 loff_t *ppos)
{
	struct pd_loop *lp = file->private_data;
	struct pd_req *req;
	int ret;

	if (count < PD_WIRE_MAX_MSG)
		return -EINVAL;
	for (;;) {
		spin_lock(&lp->lock);
		req = list_first_entry_or_null(&lp->queue, struct pd_req, queue);
		if (req)
			list_del_init(&req->queue);	/* its reference is ours */
		spin_unlock(&lp->lock);
		if (req)
			break;
		if (file->f_flags & O_NONBLOCK)
			return -EAGAIN;
		ret = wait_event_interruptible(lp->wq,
					       !list_empty_careful(&lp->queue));
		if (ret)
			return ret;
	}
	if (copy_to_user(buf, req->msg, req->msg_len)) {
		/* put it back for the next reader, with our reference */
		spin_lock(&lp->lock);
		if (!lp->closed) {
			list_add(&req->queue, &lp->queue);
			req = NULL;
		}
		spin_unlock(&lp->lock);
		pd_req_put(req);
		return -EFAULT;
	}
	ret = req->msg_len;
	pd_req_put(req);
	return ret;
}

/*
 * One reply or event from the backend. The header is checked here; the
 * body is checked by whoever consumes it.
 */
static ssize_t loop_write(struct file *file, const char __user *buf,
			  size_t count, loff_t *ppos)
{
	struct pd_loop *lp = file->private_data;
	struct pd_wire_hdr *hdr;
	void *msg;

	if (count < sizeof(*hdr) || count > PD_WIRE_MAX_MSG)
		return -EINVAL;
	msg = kvmalloc(count, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	if (copy_from_user(msg, buf, count)) {
		kvfree(msg);
		return -EFAULT;
	}
	hdr = msg;
	if (hdr->len != count - sizeof(*hdr)) {
		kvfree(msg);
		return -EINVAL;
	}
	if (hdr->flags & PD_WIRE_F_EVENT) {
		if (hdr->id || !(hdr->op & 0x80)) {
			kvfree(msg);
			return -EINVAL;
		}
		pd_conn_event(lp->conn, hdr, hdr + 1);
		kvfree(msg);
		return count;
	}
	if (!(hdr->flags & PD_WIRE_F_REPLY) || !hdr->id) {
		kvfree(msg);
		return -EINVAL;
	}
	pd_conn_complete(lp->conn, msg, count);
	return count;
}

static __poll_t loop_poll(struct file *file, struct poll_table_struct *wait)
{
	struct pd_loop *lp = file->private_data;
	__poll_t mask = EPOLLOUT | EPOLLWRNORM;

	poll_wait(file, &lp->wq, wait);
	if (!list_empty_careful(&lp->queue))
		mask |= EPOLLIN | EPOLLRDNORM;
	return mask;
}

static long loop_attach(struct pd_loop *lp, void __user *uarg)
{
	struct pd_loop_attach a;
	struct file *real, *old;

	if (copy_from_user(&a, uarg, sizeof(a)))
		return -EFAULT;
	if (a.handle == PD_WIRE_HANDLE_NONE)
		return -EINVAL;
	real = fget(a.fd);
	if (!real)
		return -EBADF;
	if (real->f_op == &pd_fops) {
		/* a forwarded file must not stand for a real one */
		fput(real);
		return -EINVAL;
	}
	old = xa_store(&lp->real_files, a.handle, real, GFP_KERNEL);
	if (xa_is_err(old)) {
		fput(real);
		return xa_err(old);
	}
	if (old)
		fput(old);
	return 0;
}

static long loop_nodes(struct pd_loop *lp, void __user *uarg)
{
	struct pd_conn *conn = lp->conn;
	struct pd_loop_nodes n;
	struct pd_loop_node node;
	unsigned int i;
	int ret;

	if (copy_from_user(&n, uarg, sizeof(n)))
		return -EFAULT;
	/* acquire: pairs with the release in pd_conn_setup(), so the
	 * export list and the status are complete when we read them
	 */
	ret = wait_event_interruptible(conn->setup_wq,
				       smp_load_acquire(&conn->setup_done));
	if (ret)
		return ret;
	mutex_lock(&conn->nodes_lock);
	for (i = 0; i < conn->nexports && i < n.count; i++) {
		const struct pd_export *exp = &conn->exports[i];

		memset(&node, 0, sizeof(node));
		node.index = i;
		node.dev_class = exp->info.class;
		node.driver = exp->info.driver;
		if (exp->created) {
			node.major = MAJOR(exp->devt);
			node.minor = MINOR(exp->devt);
			strscpy(node.path, exp->path, sizeof(node.path));
		}
		if (copy_to_user(u64_to_user_ptr(n.nodes) + i * sizeof(node),
				 &node, sizeof(node))) {
			mutex_unlock(&conn->nodes_lock);
			return -EFAULT;
		}
	}
	n.count = conn->nexports;
	n.status = conn->setup_status;
	mutex_unlock(&conn->nodes_lock);
	if (copy_to_user(uarg, &n, sizeof(n)))
		return -EFAULT;
	return 0;
}

static long loop_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct pd_loop *lp = file->private_data;

	switch (cmd) {
	case PD_LOOP_IOC_ATTACH:
		return loop_attach(lp, (void __user *)arg);
	case PD_LOOP_IOC_NODES:
		return loop_nodes(lp, (void __user *)arg);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations loop_fops = {
	.owner = THIS_MODULE,
	.open = loop_open,
	.release = loop_release,
	.read = loop_read,
	.write = loop_write,
	.poll = loop_poll,
	.unlocked_ioctl = loop_ioctl,
	.llseek = no_llseek,
};

static struct miscdevice loop_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "paradice-loop",
	.fops = &loop_fops,
	.mode = 0600,
};

int pd_loop_init(void)
{
	return misc_register(&loop_misc);
}

void pd_loop_exit(void)
{
	misc_deregister(&loop_misc);
}
