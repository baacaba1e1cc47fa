// SPDX-License-Identifier: GPL-2.0-only
/*
 * What a backend holds once hostd started it (docs/security.md): its
 * guest's own user and group (the config's backend_uid), no supplementary
 * groups, no capabilities in any set (the bounding and ambient sets too),
 * and no way to gain any (PR_SET_NO_NEW_PRIVS; set-id and file
 * capabilities of anything it might exec do nothing), a filter of the
 * syscalls it makes (below), a read-only view of dom0's files (a mount
 * namespace of its own whose every mount is read-only, nosuid, nodev and
 * noexec: it can still reach hostd's socket to reattach, and read what
 * its uid may, and change nothing), and limits of its own: its uid's
 * tasks (RLIMIT_NPROC, the uid being its alone: a TasksMax of the
 * backend), descriptors, its address space (max_memory), no core files
 * (not the size of files it writes: its stderr may be a log file).
 *
 * When: in the server process (xen/supervise.c), once it has opened all
 * it opens by itself (XenStore, the event channel and grant devices, the
 * grant helper) and before any thread exists, since the bounding set and
 * no_new_privs are per thread. The device files its guest opens later
 * come from hostd (vkms_open_file(), struct be's open_file), which checks
 * each against the guest's configuration. The monitor that forks the
 * servers keeps root: it reads nothing of the guest's but the XenbusState
 * numbers and must open those devices again for each new server; it
 * keeps only the capabilities a server's confinement takes
 * (be_confine_monitor()).
 *
 * Without hostd (--direct-display, pdctl, the loop transport of the tests
 * and benchmarks) nobody could open the files for it: it stays as it was
 * started, and says so only in that nothing here runs.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/mount.h>
#include <linux/seccomp.h>

#include "backend.h"

/* Every capability out of the bounding and ambient sets: 0 or -1. */
static int drop_bounding(void)
{
	for (int c = 0; prctl(PR_CAPBSET_READ, c, 0, 0, 0) >= 0; c++)
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0))
			return -1;
	return prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
}

/* The permitted, effective and inheritable sets empty: 0 or -1. */
static int drop_sets(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	memset(data, 0, sizeof(data));
	return (int)syscall(SYS_capset, &hdr, data);
}

/*
 * The syscalls a confined server makes, on every path: its own code, the
 * threads of glibc and of libxenstore (its watch reader), the Xen
 * libraries (ioctl, mmap of grants), reattaching to a new hostd (socket,
 * connect), the guest's control files (socketpair), descriptors from
 * hostd (recvmsg), copies in RAM of device memory and PRIME buffers
 * (memfd_create, ftruncate: maps.c, vkms/prime.c), exit. open stays (glibc may read its locale or zone
 * files; the uid decides what opens). clone only for a thread
 * (CLONE_THREAD; clone3 is ENOSYS: quiet_filter()). Not here, among
 * others: execve, fork (only the monitor forks), ptrace, mount and the namespaces, bpf,
 * perf_event_open, io_uring, userfaultfd, keyctl, kexec, module loading,
 * setuid and friends, chmod, chown, unlink.
 */
static const int allowed[] = {
	SYS_read, SYS_write, SYS_readv, SYS_writev, SYS_pread64, SYS_pwrite64,
	SYS_close, SYS_fstat, SYS_newfstatat, SYS_statx, SYS_lseek,
	SYS_openat, SYS_fcntl, SYS_dup, SYS_dup3, SYS_pipe2, SYS_ioctl,
	SYS_mmap, SYS_munmap, SYS_mprotect, SYS_mremap, SYS_madvise, SYS_brk,
	SYS_ppoll, SYS_pselect6, SYS_epoll_create1, SYS_epoll_ctl,
	SYS_epoll_pwait, SYS_eventfd2, SYS_signalfd4, SYS_timerfd_create,
	SYS_timerfd_settime, SYS_timerfd_gettime,
	SYS_rt_sigaction, SYS_rt_sigprocmask, SYS_rt_sigreturn,
	SYS_rt_sigtimedwait, SYS_sigaltstack, SYS_tgkill, SYS_restart_syscall,
	SYS_getpid, SYS_gettid, SYS_getuid, SYS_geteuid, SYS_getgid,
	SYS_getegid, SYS_getresuid, SYS_getresgid, SYS_getgroups, SYS_prctl,
	SYS_clone3, SYS_set_robust_list, SYS_rseq, SYS_futex,
	SYS_sched_yield, SYS_sched_getaffinity, SYS_getrandom,
	SYS_exit, SYS_exit_group, SYS_nanosleep, SYS_clock_nanosleep,
	SYS_clock_gettime, SYS_clock_getres, SYS_gettimeofday,
	SYS_socket, SYS_connect, SYS_socketpair, SYS_shutdown,
	SYS_sendmsg, SYS_recvmsg, SYS_sendto, SYS_recvfrom,
	SYS_getsockopt, SYS_setsockopt, SYS_getsockname, SYS_getpeername,
	SYS_prlimit64, SYS_uname, SYS_membarrier, SYS_memfd_create,
	SYS_ftruncate, SYS_fstatfs, SYS_sysinfo, SYS_getcpu,
#ifdef SYS_open
	SYS_open, SYS_stat, SYS_lstat, SYS_poll, SYS_select, SYS_dup2,
	SYS_pipe, SYS_epoll_wait, SYS_getrlimit, SYS_time,
#endif
#ifdef SYS_futex_time64
	SYS_futex_time64,
#endif
};

/*
 * clone3 is ENOSYS, whose flags a filter cannot read (glibc falls back to
 * clone, which the main filter allows for threads), in a filter of its
 * own without SECCOMP_FILTER_FLAG_LOG: the kernel logs an action only if
 * the filter it came from asked, and this one is expected at every new
 * thread. (The main filter lets clone3 through; ERRNO wins over ALLOW.)
 */
static int quiet_filter(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone3, 0, 1),
		BPF_STMT(BPF_RET | BPF_K,
			 SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA)),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = sizeof(f) / sizeof(f[0]),
				   .filter = f };

	return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
}

#if defined(__x86_64__)
#define THIS_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define THIS_ARCH AUDIT_ARCH_AARCH64
#endif

/*
 * Install the filter (after no_new_privs; before any thread: a thread made
 * later inherits it). A syscall not in the list fails with EPERM and the
 * kernel logs it (SECCOMP_FILTER_FLAG_LOG: an audit line "type=1326 ...
 * comm="pd-backend" ... syscall=N" in dom0's kernel log), and the code
 * that made it logs its failure and answers its guest with an errno: a
 * syscall a rare path needs and the list lacks costs one request, not
 * the guest's every device, as SECCOMP_RET_KILL would. Another
 * architecture's syscall numbers (x32 on x86_64 too) kill the process:
 * only an attacker's code makes those.
 */
static int install_filter(void)
{
#ifdef THIS_ARCH
	enum { N = sizeof(allowed) / sizeof(allowed[0]) };
	struct sock_filter f[N + 16];
	struct sock_fprog prog = { .filter = f };
	unsigned int n = 0;

	_Static_assert(N < 250, "the jumps reach over the list");
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		offsetof(struct seccomp_data, arch));
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
		THIS_ARCH, 1, 0);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
		SECCOMP_RET_KILL_PROCESS);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		offsetof(struct seccomp_data, nr));
#ifdef __x86_64__
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K,
		0x40000000u /* __X32_SYSCALL_BIT */, 0, 1);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
		SECCOMP_RET_KILL_PROCESS);
#endif
	/* clone: threads only (clone3: quiet_filter()) */
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
		SYS_clone, 0, 4);
	/* the flags' low half (little-endian) */
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		offsetof(struct seccomp_data, args[0]));
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K,
		CLONE_THREAD, 0, 1);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
		SECCOMP_RET_ALLOW);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
		SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA));
	/* the i-th number jumps to the ALLOW after the list and the EPERM */
	for (unsigned int i = 0; i < N; i++)
		f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
			(unsigned int)allowed[i], (unsigned char)(N - i), 0);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
		SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA));
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
		SECCOMP_RET_ALLOW);
	prog.len = (unsigned short)n;
	if (quiet_filter())
		return -1;
	return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
			    SECCOMP_FILTER_FLAG_LOG, &prog);
#else
	errno = ENOSYS;	/* no list for this architecture */
	return -1;
#endif
}

/* Every mount of a namespace of our own read-only (and nosuid, nodev,
 * noexec), none of it seen outside: 0 or -1. */
static int read_only_view(void)
{
	struct mount_attr a = {
		.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID |
			    MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC,
		.propagation = MS_PRIVATE,
	};

	if (unshare(CLONE_NEWNS))
		return -1;
	return (int)syscall(SYS_mount_setattr, -1, "/", AT_RECURSIVE, &a,
			    sizeof(a));
}

/*
 * Tasks: the worker pool's most (BE_POOL_MAX, pool.c) and the backend's
 * own threads, and those of glibc and the Xen libraries; counted per uid,
 * which is this backend's alone. Descriptors: the guest's handles
 * (max_handles) and what the backend holds itself.
 */
#define CONFINE_NPROC	640
#define CONFINE_FDS_MORE 256

static int set_limits(struct be *be)
{
	unsigned long fds = (be->max.handles ? be->max.handles : 1024) +
			    CONFINE_FDS_MORE;
	const struct { int res; rlim_t max; } l[] = {
		{ RLIMIT_NPROC, CONFINE_NPROC },
		{ RLIMIT_NOFILE, (rlim_t)fds },
		{ RLIMIT_CORE, 0 },
		{ RLIMIT_AS, be->max.memory ? (rlim_t)be->max.memory :
					      RLIM_INFINITY },
	};

	for (unsigned int i = 0; i < sizeof(l) / sizeof(l[0]); i++)
		if (setrlimit(l[i].res, &(struct rlimit){ l[i].max, l[i].max }))
			return -1;
	return 0;
}

/*
 * The monitor (xen/supervise.c) stays root, since each new server must
 * open the Xen devices (root's files) and then confine itself, but keeps
 * only the capabilities that takes, in every set and in the bounding set:
 * SETUID, SETGID, SETPCAP (the server's drop), SYS_ADMIN (its mount
 * namespace) and KILL (to end a server of another uid).
 */
int be_confine_monitor(struct be *be)
{
	static const int keep[] = { CAP_SETUID, CAP_SETGID, CAP_SETPCAP,
				    CAP_SYS_ADMIN, CAP_KILL };
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
	uint64_t mask = 0;

	for (unsigned int i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
		mask |= 1ull << keep[i];
	for (int c = 0; prctl(PR_CAPBSET_READ, c, 0, 0, 0) >= 0; c++)
		if (!(mask & (1ull << c)) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0))
			goto fail;
	memset(data, 0, sizeof(data));
	data[0].permitted = data[0].effective = (uint32_t)mask;
	data[1].permitted = data[1].effective = (uint32_t)(mask >> 32);
	if (syscall(SYS_capset, &hdr, data) ||
	    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0))
		goto fail;
	return 0;
fail:
	be_log(be, "cannot limit the monitor's capabilities: %s",
	       strerror(errno));
	return -1;
}

int be_confine(struct be *be)
{
	uid_t uid = (uid_t)be->confine_uid, r, e, s;
	gid_t gid = (gid_t)be->confine_uid;
	const char *step;

	step = "a read-only view";
	if (read_only_view())
		goto fail;
	step = "the limits";
	if (set_limits(be))
		goto fail;
	step = "no_new_privs";
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		goto fail;
	step = "the bounding set";
	if (drop_bounding())
		goto fail;
	step = "setgroups";
	if (setgroups(0, NULL))
		goto fail;
	step = "setresgid";
	if (setresgid(gid, gid, gid))
		goto fail;
	step = "setresuid";
	if (setresuid(uid, uid, uid))
		goto fail;
	step = "capset";
	if (drop_sets())
		goto fail;
	/* no way back */
	step = "the check";
	errno = EPERM;
	if (getresuid(&r, &e, &s) || r != uid || e != uid || s != uid ||
	    setresuid(0, 0, 0) == 0)
		goto fail;
	step = "the syscall filter";
	if (install_filter())
		goto fail;
	be_log(be, "confined: uid and gid %u, no groups, no capabilities, "
	       "%zu syscalls, read-only files, %d tasks", be->confine_uid,
	       sizeof(allowed) / sizeof(allowed[0]), CONFINE_NPROC);
	return 0;
fail:
	be_log(be, "cannot confine the backend (%s): %s", step,
	       strerror(errno));
	return -1;
}
