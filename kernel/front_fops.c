// SPDX-License-Identifier: GPL-2.0-only
/*
 * The class-agnostic forwarding file operations. Every operation on a
 * forwarded file becomes one request to the backend, which runs it on the
 * real file; the calling thread sleeps on its own request only, so
 * operations of other threads and files go on meanwhile.
 *
 * The DRM and ALSA cores install pd_fops on the files of their nodes (it
 * is the drm_driver's fops and the snd_minor's f_ops), evdev nodes are
 * our cdevs with pd_fops, and V4L2 nodes call the pd_fop_* functions from
 * their v4l2_file_operations. Files that an ioctl creates (PRIME, EXPBUF)
 * are anonymous files with pd_fops. A forwarded file's life (open on the
 * backend, adoption, release) is front_file.c's.
 */
#include <linux/compat.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/poll.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "front.h"

static u16 wire_req_flags(struct file *file)
{
	return (file->f_flags & O_NONBLOCK) ? PD_WIRE_F_NONBLOCK : 0;
}

int pd_fops_open_export(struct pd_export *exp, struct file *file)
{
	struct pd_file *pf;
	int ret;

	pf = pd_file_open(exp, file->f_flags, &ret);
	if (!pf)
		return ret;
	file->private_data = pf;
	return 0;
}

static int pd_fop_open(struct inode *inode, struct file *file)
{
	struct pd_export *exp = pd_node_get(inode->i_rdev);

	if (!exp)
		return -ENODEV;
	return pd_fops_open_export(exp, file);
}

int pd_fop_release(struct inode *inode, struct file *file)
{
	struct pd_file *pf = file->private_data;

	fasync_helper(-1, file, 0, &pf->fasync);
	pd_file_close(pf);
	return 0;
}

static int pd_fop_flush(struct file *file, fl_owner_t id)
{
	struct pd_file *pf = file->private_data;
	int ret;

	if (pd_conn_is_dead(pf->conn))
		return 0;
	/* a file an ioctl made: no ->flush to wait for (front_file.c) */
	if (pd_file_made(pf) && pd_file_async_ok(pf)) {
		struct pd_req *req = pd_req_alloc(PD_OP_FLUSH, pf->handle, 0);

		if (req) {
			pd_file_send_async(pf, req, NULL);
			return 0;
		}
	}
	ret = pd_file_simple(pf, PD_OP_FLUSH);
	return ret == -EIO ? 0 : ret;
}

/*
 * A read or write on an O_NONBLOCK file never waits in the real driver
 * (the backend's descriptor is non-blocking for it too), and the native
 * call is never interrupted by a signal: neither is ours (a fatal signal
 * still gives up). Other requests, and ioctls, which some drivers block
 * in whatever the flag, stay interruptible.
 */
static int io_wait_mode(const struct file *file)
{
	return file->f_flags & O_NONBLOCK ? PD_WAIT_UNINTR : PD_WAIT_INTR;
}

/* One PD_OP_READ trip; seen: the pushed total the file has (0 without a
 * push buffer). */
static ssize_t read_trip(struct file *file, struct pd_file *pf,
			 char __user *buf, size_t count, loff_t *ppos, u32 seen)
{
	struct pd_wire_read_req *body;
	struct pd_wire_io_rsp io;
	struct pd_pollc_tok tok;
	struct pd_req *req;
	ssize_t ret;

	count = min_t(size_t, count, PD_WIRE_MAX_IO);
	req = pd_req_alloc(PD_OP_READ, pf->handle, sizeof(*body));
	if (!req)
		return -ENOMEM;
	req->msg->flags = wire_req_flags(file);
	body = pd_req_body(req);
	body->pos = ppos ? *ppos : 0;
	body->count = count;
	body->seen = seen;
	tok = pd_file_op_begin(pf);
	ret = pd_req_run(pf->conn, req, io_wait_mode(file));
	pd_file_op_end(pf, tok, ret ? NULL : req);
	if (ret)
		goto out;
	ret = req->result;
	if (ret < 0) {
		ret = pd_errno(ret);
		goto out;
	}
	if (ret > count || req->rsp_len != sizeof(io) + ret) {
		ret = -EIO;
		goto out;
	}
	memcpy(&io, pd_rsp_body(req), sizeof(io));
	if (copy_to_user(buf, pd_rsp_body(req) + sizeof(io), ret)) {
		ret = -EFAULT;
		goto out;
	}
	if (ppos)
		*ppos = io.pos;
	/* events of a pushed file that came in the reply, not pushed (the
	 * backend kept them back for want of room): its class sees them too */
	if (pf->evbuf && ret > 0 && pf->exp && pf->exp->cls->events_pushed) {
		unsigned long flags;

		spin_lock_irqsave(&pf->as->lock, flags);
		pf->exp->cls->events_pushed(pf, (const u8 *)pd_rsp_body(req) +
					    sizeof(io), ret);
		spin_unlock_irqrestore(&pf->as->lock, flags);
	}
out:
	pd_req_put(req);
	return ret;
}

/* May pf's backend keep events back (common/pd_evbuf.h)? */
static bool evbuf_held_back(struct pd_file *pf)
{
	unsigned long flags;
	bool back;

	spin_lock_irqsave(&pf->as->lock, flags);
	back = pd_evbuf_may_hold_back(pf->evbuf);
	spin_unlock_irqrestore(&pf->as->lock, flags);
	return back;
}

/* Bytes of pushed events pf holds (its spinlock orders them). */
static u32 evbuf_held(struct pd_file *pf)
{
	unsigned long flags;
	u32 n;

	spin_lock_irqsave(&pf->as->lock, flags);
	n = pf->evbuf->len;
	spin_unlock_irqrestore(&pf->as->lock, flags);
	return n;
}

/*
 * read() of a DRM file whose backend pushes its events (pd_wire.h "Events
 * pushed into the guest"): the pushed ones first, taken here whole as
 * drm_read() takes them; a trip only when none is held, saying how many
 * this file has seen. A trip that crossed a push (-ESTALE) waits for it
 * here (or says -EAGAIN on an O_NONBLOCK file: poll() will say when).
 * Readers take turns, as on a DRM file: the first bytes held stay put
 * while one copies them out, since a push only appends.
 */
static ssize_t read_pushed(struct file *file, struct pd_file *pf,
			   char __user *buf, size_t count, loff_t *ppos)
{
	struct pd_evbuf *b = pf->evbuf;
	unsigned long flags;
	ssize_t ret;
	u32 n, seen;

	if (mutex_lock_interruptible(&pf->ev_read_lock))
		return -ERESTARTSYS;
	for (;;) {
		/* taken away (PD_EV_REVOKE, EVIOCREVOKE): the backend says */
		if (READ_ONCE(pf->revoked)) {
			ret = read_trip(file, pf, buf, count, ppos, 0);
			break;
		}
		spin_lock_irqsave(&pf->as->lock, flags);
		n = pd_evbuf_peek(b, min_t(size_t, count, U32_MAX));
		ret = b->len;
		seen = b->pushed;
		if (!ret)	/* the trip below says it */
			b->acked = seen;
		spin_unlock_irqrestore(&pf->as->lock, flags);
		if (ret) {
			/* held, but the first is larger than count: as the
			 * backend answers (vkms/events.c) */
			ret = -EINVAL;
			if (n && copy_to_user(buf, b->data, n))
				ret = -EFAULT;
			else if (n)
				ret = n;
			if (ret > 0) {
				spin_lock_irqsave(&pf->as->lock, flags);
				pd_evbuf_drop(b, n);
				spin_unlock_irqrestore(&pf->as->lock, flags);
				pd_stats_read_pushed();
			}
			break;
		}
		ret = read_trip(file, pf, buf, count, ppos, seen);
		if (ret != -ESTALE)
			break;
		/* what crossed our trip is on its way */
		if (file->f_flags & O_NONBLOCK) {
			if (evbuf_held(pf))
				continue;
			ret = -EAGAIN;
			break;
		}
		ret = wait_event_interruptible(pf->poll_wq,
					       evbuf_held(pf) ||
					       READ_ONCE(pf->revoked) ||
					       pd_conn_is_dead(pf->conn));
		if (ret)
			break;
		if (!evbuf_held(pf)) {
			ret = -EIO;
			break;
		}
	}
	mutex_unlock(&pf->ev_read_lock);
	return ret;
}

ssize_t pd_fop_read(struct file *file, char __user *buf, size_t count,
		    loff_t *ppos)
{
	struct pd_file *pf = file->private_data;
	ssize_t ret;

	if (!count)
		return 0;
	ret = pd_file_async_err(pf);
	if (ret)
		return ret;
	if (pf->evbuf)
		return read_pushed(file, pf, buf, count, ppos);
	return read_trip(file, pf, buf, count, ppos, 0);
}

ssize_t pd_fop_write(struct file *file, const char __user *buf, size_t count,
		     loff_t *ppos)
{
	struct pd_file *pf = file->private_data;
	struct pd_wire_write_req *body;
	struct pd_wire_io_rsp io;
	struct pd_pollc_tok tok;
	struct pd_req *req;
	ssize_t ret;

	if (!count)
		return 0;
	ret = pd_file_async_err(pf);
	if (ret)
		return ret;
	count = min_t(size_t, count, PD_WIRE_MAX_IO);
	req = pd_req_alloc(PD_OP_WRITE, pf->handle, sizeof(*body) + count);
	if (!req)
		return -ENOMEM;
	req->msg->flags = wire_req_flags(file);
	body = pd_req_body(req);
	body->pos = ppos ? *ppos : 0;
	body->count = count;
	if (copy_from_user(body + 1, buf, count)) {
		ret = -EFAULT;
		goto out;
	}
	tok = pd_file_op_begin(pf);
	ret = pd_req_run(pf->conn, req, io_wait_mode(file));
	pd_file_op_end(pf, tok, ret ? NULL : req);
	if (ret)
		goto out;
	ret = req->result;
	if (ret < 0) {
		ret = pd_errno(ret);
		goto out;
	}
	if (ret > count || req->rsp_len != sizeof(io)) {
		ret = -EIO;
		goto out;
	}
	memcpy(&io, pd_rsp_body(req), sizeof(io));
	if (ppos)
		*ppos = io.pos;
out:
	pd_req_put(req);
	return ret;
}

static loff_t pd_fop_llseek(struct file *file, loff_t offset, int whence)
{
	struct pd_file *pf = file->private_data;
	struct pd_wire_llseek_req *body;
	struct pd_pollc_tok tok;
	struct pd_req *req;
	loff_t ret;

	req = pd_req_alloc(PD_OP_LLSEEK, pf->handle, sizeof(*body));
	if (!req)
		return -ENOMEM;
	body = pd_req_body(req);
	body->offset = offset;
	body->whence = whence;
	tok = pd_file_op_begin(pf);
	ret = pd_req_run(pf->conn, req, PD_WAIT_INTR);
	pd_file_op_end(pf, tok, ret ? NULL : req);
	if (!ret) {
		ret = req->result;
		if (ret >= 0)
			file->f_pos = ret;
		else
			ret = pd_errno(ret);
	}
	pd_req_put(req);
	return ret;
}

#define PD_POLL_BITS (EPOLLIN | EPOLLPRI | EPOLLOUT | EPOLLERR | EPOLLHUP | \
		      EPOLLRDNORM | EPOLLRDBAND | EPOLLWRNORM | EPOLLWRBAND | \
		      EPOLLMSG | EPOLLRDHUP)

/*
 * poll/select/epoll: a call (re)registers the caller's interest with the
 * backend and returns the real file's mask at that moment, as FUSE does.
 * When one of those events becomes ready later, the backend sends
 * PD_EV_POLL and pd_conn_event() wakes poll_wq, after which the kernel
 * calls us again. With PD_WIRE_FEAT_POLL_SEQ the backend's registration
 * stays (events.c) and a call is answered without a trip when the file's
 * readiness is known fresh (an event or reply not older than anything
 * else seen, no other request sent since: common/pd_async.h) and
 * something the caller asks for is ready. With PD_WIRE_FEAT_POLL_STATE
 * the registration is known to stay armed (it only grows), replies of
 * requests carry the state after them, and "not ready" is answered here
 * too: any later readiness comes as an event, which wakes poll_wq, on
 * which the caller is registered (poll_wait() below) before we look.
 * Without it a "not ready" answer travels, so a caller about to sleep
 * has registered.
 */
__poll_t pd_fop_poll(struct file *file, struct poll_table_struct *wait)
{
	struct pd_file *pf = file->private_data;
	bool seqd = pf->conn->features & PD_WIRE_FEAT_POLL_SEQ;
	bool stays = pd_file_poll_state_ok(pf->conn);
	struct pd_wire_poll_req *body;
	struct pd_wire_poll_ev ev;
	struct pd_pollc_tok token = { 0 };
	unsigned long flags;
	struct pd_req *req;
	__poll_t mask;
	u32 events, cached;
	bool hit = false;
	int ret;

	poll_wait(file, &pf->poll_wq, wait);
	if (READ_ONCE(pf->revoked) || pd_conn_is_dead(pf->conn))
		return EPOLLERR | EPOLLHUP;
	if (!(pf->conn->features & PD_WIRE_FEAT_POLL_EVENTS))
		return DEFAULT_POLLMASK;
	events = (__force u32)(poll_requested_events(wait) & PD_POLL_BITS &
			       ~(EPOLLERR | EPOLLHUP));
	/* pushed events held: what the file's poll says then (a DRM file
	 * says no more; an evdev file is always writable too) */
	if (pf->evbuf && (events & (EPOLLIN | EPOLLRDNORM)) &&
	    evbuf_held(pf)) {
		mask = EPOLLIN | EPOLLRDNORM;
		if (pf->dev_class == PD_WIRE_CLASS_EVDEV)
			mask |= EPOLLOUT | EPOLLWRNORM;
		pd_stats_poll_cached(true);
		return mask & ((__force __poll_t)events);
	}
	/* none held: a DRM file is not ready, unless the backend may keep
	 * events back for want of room (common/pd_evbuf.h). Its poll says
	 * POLLIN while an event waits and nothing else, every event of it is
	 * pushed, and a push wakes poll_wq, on which the caller is (a 1.7
	 * backend pushes them from the open on). No trip, even while
	 * requests nobody waits for (a page flip) are in flight. */
	if (pf->evbuf && pf->dev_class == PD_WIRE_CLASS_DRM && stays &&
	    (pf->conn->features & PD_WIRE_FEAT_ASYNC_ORDERED) &&
	    !evbuf_held_back(pf)) {
		pd_stats_poll_cached(false);
		return 0;
	}
	if (seqd) {
		spin_lock_irqsave(&pf->as->lock, flags);
		hit = pd_pollc_answer(&pf->as->pc, events, &cached);
		token = pd_pollc_poll_begin(&pf->as->pc);
		spin_unlock_irqrestore(&pf->as->lock, flags);
		if (hit) {
			pd_stats_poll_cached(!!cached);
			return (__force __poll_t)cached & PD_POLL_BITS;
		}
	}
	req = pd_req_alloc(PD_OP_POLL, pf->handle, sizeof(*body));
	if (!req)
		return EPOLLERR;
	body = pd_req_body(req);
	body->events = events;
	pd_stats_poll_trip(pd_file_made(pf));
	ret = pd_req_run(pf->conn, req, PD_WAIT_UNINTR);
	if (ret || req->result < 0) {
		mask = EPOLLERR | EPOLLHUP;
	} else {
		mask = (__force __poll_t)(u32)req->result & PD_POLL_BITS;
		/* with FEAT_POLL_STATE the body says the registration is
		 * armed, and it is armed for at least events */
		if (seqd && req->rsp_len == sizeof(ev)) {
			memcpy(&ev, pd_rsp_body(req), sizeof(ev));
			spin_lock_irqsave(&pf->as->lock, flags);
			pd_pollc_poll_reply(&pf->as->pc, token, events, ev.seq,
					    (__force u32)mask, stays);
			spin_unlock_irqrestore(&pf->as->lock, flags);
		}
	}
	pd_req_put(req);
	return mask;
}

long pd_fop_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct pd_file *pf = file->private_data;

	return pd_ioctl_forward(pf, cmd, arg, &pd_fops,
				!!(file->f_flags & O_NONBLOCK));
}

#ifdef CONFIG_COMPAT
/*
 * 32-bit programs. A command whose argument has another size in a 32-bit
 * program has another number too, finds no table entry and gets -ENOTTY.
 * Of the rest, only commands with no nested pointers are forwarded (the
 * argument is then the same bytes); the others would need their 32-bit
 * layouts described, which no table does yet.
 */
static long pd_fop_compat_ioctl(struct file *file, unsigned int cmd,
				unsigned long arg)
{
	struct pd_file *pf = file->private_data;
	const struct pd_ioc_entry *e;
	unsigned int flags, i;

	e = pd_ioc_lookup(pf->dev_class, pf->driver, cmd, &flags);
	if (!e)
		return -ENOTTY;
	for (i = 0; i < e->ndesc; i++)
		if (e->desc[i].kind == PD_IOC_D_PTR ||
		    e->desc[i].kind == PD_IOC_D_TAIL)
			return -ENOTTY;
	if (!(flags & PD_IOC_F_ARG_VALUE))
		arg = (unsigned long)compat_ptr(arg);
	return pd_ioctl_forward(pf, cmd, arg, &pd_fops,
				!!(file->f_flags & O_NONBLOCK));
}
#endif

/*
 * mmap, zero copy. xen: front_xenmap.c maps the backend's grants.
 * loop: the real file serves the mapping itself, as
 * overlayfs does it: the VMA is handed over to the real file (which the
 * backend named with PD_LOOP_IOC_ATTACH) and its driver's mmap sets it up,
 * so faults are the real driver's. The offset means what it means on the
 * real file (DRM fake offsets came from ioctls forwarded to that file).
 */
int pd_fop_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct pd_file *pf = file->private_data;

	if (pd_conn_is_dead(pf->conn))
		return -EIO;
	if (!pf->real && pf->conn->tp->mmap)
		return pf->conn->tp->mmap(pf, vma);
	if (!pf->real || !pf->real->f_op->mmap)
		return -ENODEV;
	if (WARN_ON(vma->vm_file != file))
		return -EIO;
	vma_set_file(vma, pf->real);
	return call_mmap(vma->vm_file, vma);
}

static int pd_fop_fasync(int fd, struct file *file, int on)
{
	struct pd_file *pf = file->private_data;
	struct pd_wire_fasync_req *body;
	struct pd_req *req;
	int ret;

	ret = fasync_helper(fd, file, on, &pf->fasync);
	if (ret < 0)
		return ret;
	if (!(pf->conn->features & PD_WIRE_FEAT_FASYNC))
		return on ? -EOPNOTSUPP : 0;
	req = pd_req_alloc(PD_OP_FASYNC, pf->handle, sizeof(*body));
	if (!req)
		return -ENOMEM;
	body = pd_req_body(req);
	body->on = !!READ_ONCE(pf->fasync);
	ret = pd_req_run(pf->conn, req, PD_WAIT_UNINTR);
	if (!ret && req->result < 0)
		ret = (int)pd_errno(req->result);
	pd_req_put(req);
	return ret;
}

/* What this file's forwarding cost so far (front_stats.c). */
static void pd_fop_show_fdinfo(struct seq_file *m, struct file *file)
{
	struct pd_file *pf = file->private_data;

	seq_printf(m, "pd_handle:\t%u\npd_trips:\t%lld\npd_trip_ns:\t%lld\n"
		   "pd_cached:\t%lld\n", pf->handle,
		   (long long)atomic64_read(&pf->trips),
		   (long long)atomic64_read(&pf->trip_ns),
		   (long long)atomic64_read(&pf->cached));
}

const struct file_operations pd_fops = {
	.owner = THIS_MODULE,
	.open = pd_fop_open,
	.release = pd_fop_release,
	.flush = pd_fop_flush,
	.read = pd_fop_read,
	.write = pd_fop_write,
	.llseek = pd_fop_llseek,
	.poll = pd_fop_poll,
	.unlocked_ioctl = pd_fop_ioctl,
#ifdef CONFIG_COMPAT
	.compat_ioctl = pd_fop_compat_ioctl,
#endif
	.mmap = pd_fop_mmap,
	.fasync = pd_fop_fasync,
	.show_fdinfo = pd_fop_show_fdinfo,
};

/*
 * An event from the backend (the transport checked the header). Bodies
 * are checked here. Events for handles we do not know are dropped: a
 * file may have just been released.
 */
void pd_conn_event(struct pd_conn *conn, const struct pd_wire_hdr *hdr,
		   const void *body)
{
	struct pd_file *pf;

	if (hdr->op == PD_EV_UNMAP) {
		struct pd_wire_unmap_ev ev;

		if (hdr->len == sizeof(ev)) {
			memcpy(&ev, body, sizeof(ev));
			if (conn->tp->revoke_map)
				conn->tp->revoke_map(conn, ev.map_id);
		}
		return;
	}
	xa_lock(&conn->files);
	pf = xa_load(&conn->files, hdr->handle);
	if (!pf) {
		/* maybe a file an ioctl is making (pd_file_new_state()) */
		if (hdr->op == PD_EV_POLL)
			conn->unknown_poll_events++;
		goto out;
	}
	switch (hdr->op) {
	case PD_EV_POLL: {
		struct pd_wire_poll_ev ev;

		if (hdr->len != sizeof(ev))
			break;
		memcpy(&ev, body, sizeof(ev));
		if (conn->features & PD_WIRE_FEAT_POLL_SEQ) {
			unsigned long flags;

			/* a stale one only wakes (common/pd_async.h) */
			spin_lock_irqsave(&pf->as->lock, flags);
			pd_pollc_event(&pf->as->pc, ev.seq,
				       ev.revents & (u32)(__force u32)PD_POLL_BITS);
			spin_unlock_irqrestore(&pf->as->lock, flags);
		}
		wake_up_poll(&pf->poll_wq,
			     (__force __poll_t)ev.revents & PD_POLL_BITS);
		break;
	}
	case PD_EV_DATA: {
		struct pd_wire_data_ev ev;
		unsigned long flags;
		int err;

		if (hdr->len <= sizeof(ev) ||
		    hdr->len > sizeof(ev) + PD_WIRE_EV_DATA_MAX || !pf->evbuf) {
			pr_warn_ratelimited("paradice: conn %u: handle %u: bad pushed events (%u bytes)\n",
					    conn->id, hdr->handle, hdr->len);
			break;
		}
		memcpy(&ev, body, sizeof(ev));
		spin_lock_irqsave(&pf->as->lock, flags);
		if (conn->features & PD_WIRE_FEAT_POLL_SEQ)
			pd_pollc_event(&pf->as->pc, ev.seq,
				       ev.revents & (u32)(__force u32)PD_POLL_BITS);
		err = pd_evbuf_put(pf->evbuf, (const u8 *)body + sizeof(ev),
				   hdr->len - sizeof(ev), ev.pushed);
		if (!err && pf->exp && pf->exp->cls->events_pushed)
			pf->exp->cls->events_pushed(pf, (const u8 *)body +
						    sizeof(ev),
						    hdr->len - sizeof(ev));
		spin_unlock_irqrestore(&pf->as->lock, flags);
		if (err)
			pr_warn_ratelimited("paradice: conn %u: handle %u: pushed events lost (%d)\n",
					    conn->id, hdr->handle, err);
		wake_up_poll(&pf->poll_wq, EPOLLIN | EPOLLRDNORM);
		break;
	}
	case PD_EV_SIGIO: {
		struct pd_wire_sigio_ev ev;

		if (hdr->len != sizeof(ev))
			break;
		memcpy(&ev, body, sizeof(ev));
		if (ev.band >= POLL_IN && ev.band <= POLL_HUP)
			kill_fasync(&pf->fasync, SIGIO, ev.band);
		break;
	}
	case PD_EV_REVOKE:
		WRITE_ONCE(pf->revoked, true);
		wake_up_poll(&pf->poll_wq, EPOLLERR | EPOLLHUP);
		break;
	default:
		break;
	}
out:
	xa_unlock(&conn->files);
}
