// SPDX-License-Identifier: GPL-2.0-only
/*
 * What forwarding costs, counted in the product: every synchronous trip
 * (a request whose caller waits for the reply) by operation and, for
 * ioctls, by command, with its count, total and largest time from send
 * to the caller running again; how long a caller took to run again after
 * its reply arrived (guest scheduling, apart from the transport and the
 * backend); waits that a spin on the completion ended before sleeping;
 * and answers the guest gave itself from its cache of immutable queries.
 *
 * Read as text from debugfs, <debugfs>/pdfront/stats; writing anything to
 * the file sets every counter to zero. Each forwarded file also counts its
 * own trips, shown in /proc/PID/fdinfo/FD (front_fops.c). bench/gpu.py reads it before and
 * after a glmark2 run to count the trips per frame.
 *
 * One spinlock for everything: a trip costs tens of microseconds at best,
 * so the lock is never what a caller waits for.
 */
#include <linux/debugfs.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/xarray.h>

#include "front.h"

struct pd_stat {
	u64 count;
	u64 total_ns;
	u64 max_ns;
	u64 cached;			/* answered without a trip */
	u64 async;			/* sent, reply not waited for */
};

static DEFINE_SPINLOCK(stats_lock);	/* every counter below */
static struct pd_stat op_stats[PD_STATS_NOPS];
static struct pd_stat wake_stats;	/* reply arrived -> caller runs */
static u64 spin_done, spin_slept;
static u64 poll_cached;			/* polls answered from events */
static u64 poll_cached_idle;		/* ... of which "not ready" */
static u64 poll_trips_made, poll_trips_node;	/* poll trips on files an
						 * ioctl made / on nodes */
static DEFINE_XARRAY(ioctl_stats);	/* by command; entries never freed
					 * before module exit */
static struct dentry *stats_dir;

static const char *const op_names[PD_STATS_NOPS] = {
	[PD_OP_CONNECT] = "connect",	[PD_OP_EXPORT_INFO] = "export_info",
	[PD_OP_OPEN] = "open",		[PD_OP_RELEASE] = "release",
	[PD_OP_FLUSH] = "flush",	[PD_OP_READ] = "read",
	[PD_OP_WRITE] = "write",	[PD_OP_LLSEEK] = "llseek",
	[PD_OP_POLL] = "poll",		[PD_OP_IOCTL] = "ioctl",
	[PD_OP_MMAP] = "mmap",		[PD_OP_FAULT] = "fault",
	[PD_OP_MUNMAP] = "munmap",	[PD_OP_FASYNC] = "fasync",
	[PD_OP_CANCEL] = "cancel",
};

static void stat_add(struct pd_stat *s, u64 ns)
{
	s->count++;
	s->total_ns += ns;
	if (ns > s->max_ns)
		s->max_ns = ns;
}

/* The counters of ioctl cmd, made on first use; NULL without memory. */
static struct pd_stat *ioctl_stat(u32 cmd)
{
	struct pd_stat *s = xa_load(&ioctl_stats, cmd), *old;

	if (s)
		return s;
	s = kzalloc(sizeof(*s), GFP_KERNEL);
	if (!s)
		return NULL;
	old = xa_cmpxchg(&ioctl_stats, cmd, NULL, s, GFP_KERNEL);
	if (old || xa_is_err(old)) {
		kfree(s);
		return xa_is_err(old) ? NULL : old;
	}
	return s;
}

/*
 * One synchronous trip of operation op (ioctl command cmd for
 * PD_OP_IOCTL) that took ns from send to the caller running again, of
 * which wake_ns after its reply had arrived. Process context.
 */
void pd_stats_trip(u16 op, u32 cmd, u64 ns, u64 wake_ns)
{
	struct pd_stat *is = op == PD_OP_IOCTL ? ioctl_stat(cmd) : NULL;

	spin_lock(&stats_lock);
	if (op < PD_STATS_NOPS)
		stat_add(&op_stats[op], ns);
	if (is)
		stat_add(is, ns);
	stat_add(&wake_stats, wake_ns);
	spin_unlock(&stats_lock);
}

/*
 * The same trip counted for the file it was about, if it is open: the
 * caller of a request about a handle holds that file, so the file found
 * lives until the trip's caller returns. Process context.
 */
void pd_stats_file_trip(struct pd_conn *conn, u32 handle, u64 ns)
{
	struct pd_file *pf;

	if (handle == PD_WIRE_HANDLE_NONE)
		return;
	pf = xa_load(&conn->files, handle);
	if (!pf)
		return;
	atomic64_inc(&pf->trips);
	atomic64_add(ns, &pf->trip_ns);
}

/* An ioctl answered from the guest's cache, without a trip. */
void pd_stats_cached(u32 cmd)
{
	struct pd_stat *is = ioctl_stat(cmd);

	spin_lock(&stats_lock);
	op_stats[PD_OP_IOCTL].cached++;
	if (is)
		is->cached++;
	spin_unlock(&stats_lock);
}

/* A request sent asynchronously (no trip): op, and cmd for an ioctl. */
void pd_stats_async(u16 op, u32 cmd)
{
	struct pd_stat *is = op == PD_OP_IOCTL ? ioctl_stat(cmd) : NULL;

	spin_lock(&stats_lock);
	if (op < PD_STATS_NOPS)
		op_stats[op].async++;
	if (is)
		is->async++;
	spin_unlock(&stats_lock);
}

/* A poll answered from the readiness the backend told (ready: something
 * was, else the answer was "not ready"). */
void pd_stats_poll_cached(bool ready)
{
	spin_lock(&stats_lock);
	op_stats[PD_OP_POLL].cached++;
	poll_cached++;
	if (!ready)
		poll_cached_idle++;
	spin_unlock(&stats_lock);
}

/* A poll that travels, on a file an ioctl made (made) or on a node. */
void pd_stats_poll_trip(bool made)
{
	spin_lock(&stats_lock);
	if (made)
		poll_trips_made++;
	else
		poll_trips_node++;
	spin_unlock(&stats_lock);
}

/* A read() of a DRM file answered from the events pushed into it. */
void pd_stats_read_pushed(void)
{
	spin_lock(&stats_lock);
	op_stats[PD_OP_READ].cached++;
	spin_unlock(&stats_lock);
}

/* A wait that spun first: did the reply come during the spin? */
void pd_stats_spin(bool done)
{
	spin_lock(&stats_lock);
	if (done)
		spin_done++;
	else
		spin_slept++;
	spin_unlock(&stats_lock);
}

static void show_stat(struct seq_file *m, const struct pd_stat *s)
{
	seq_printf(m, " count %llu total_ns %llu max_ns %llu cached %llu async %llu\n",
		   s->count, s->total_ns, s->max_ns, s->cached, s->async);
}

static int stats_show(struct seq_file *m, void *unused)
{
	struct pd_stat total = { 0 }, *s;
	unsigned long cmd;
	unsigned int op;

	spin_lock(&stats_lock);
	for (op = 0; op < PD_STATS_NOPS; op++) {
		s = &op_stats[op];
		total.count += s->count;
		total.total_ns += s->total_ns;
		total.max_ns = max(total.max_ns, s->max_ns);
		total.cached += s->cached;
		total.async += s->async;
	}
	seq_puts(m, "trips");
	show_stat(m, &total);
	seq_puts(m, "wake");
	show_stat(m, &wake_stats);
	seq_printf(m, "spin done %llu slept %llu\n", spin_done, spin_slept);
	seq_printf(m, "poll cached %llu not_ready %llu\n", poll_cached,
		   poll_cached_idle);
	seq_printf(m, "poll trips made_files %llu nodes %llu\n",
		   poll_trips_made, poll_trips_node);
	for (op = 0; op < PD_STATS_NOPS; op++) {
		s = &op_stats[op];
		if (!s->count && !s->cached && !s->async)
			continue;
		if (op_names[op])
			seq_printf(m, "op %s", op_names[op]);
		else
			seq_printf(m, "op 0x%02x", op);
		show_stat(m, s);
	}
	xa_for_each(&ioctl_stats, cmd, s) {
		seq_printf(m, "ioctl 0x%08lx type 0x%02lx nr 0x%02lx",
			   cmd, (cmd >> _IOC_TYPESHIFT) & 0xff,
			   (cmd >> _IOC_NRSHIFT) & 0xff);
		show_stat(m, s);
	}
	spin_unlock(&stats_lock);
	return 0;
}

static int stats_open(struct inode *inode, struct file *file)
{
	return single_open(file, stats_show, NULL);
}

/* Any write: every counter back to zero. */
static ssize_t stats_write(struct file *file, const char __user *buf,
			   size_t count, loff_t *ppos)
{
	struct pd_stat *s;
	unsigned long cmd;

	spin_lock(&stats_lock);
	memset(op_stats, 0, sizeof(op_stats));
	memset(&wake_stats, 0, sizeof(wake_stats));
	spin_done = spin_slept = poll_cached = poll_cached_idle = 0;
	poll_trips_made = poll_trips_node = 0;
	xa_for_each(&ioctl_stats, cmd, s)
		memset(s, 0, sizeof(*s));
	spin_unlock(&stats_lock);
	return count;
}

static const struct file_operations stats_fops = {
	.owner = THIS_MODULE,
	.open = stats_open,
	.read = seq_read,
	.llseek = seq_lseek,
	.release = single_release,
	.write = stats_write,
};

void pd_stats_init(void)
{
	/* without debugfs the counters are kept and not shown */
	stats_dir = debugfs_create_dir("pdfront", NULL);
	debugfs_create_file("stats", 0600, stats_dir, NULL, &stats_fops);
}

void pd_stats_exit(void)
{
	struct pd_stat *s;
	unsigned long cmd;

	debugfs_remove_recursive(stats_dir);
	xa_for_each(&ioctl_stats, cmd, s)
		kfree(s);
	xa_destroy(&ioctl_stats);
}
