// SPDX-License-Identifier: GPL-2.0-only
/*
 * Paradice guest frontend: module entry points and the registry of
 * forwarded nodes.
 *
 * The frontend creates virtual device files in the guest and forwards every
 * file operation on them to the backend in the driver domain. The files of
 * the module are listed in front.h.
 */
#include <linux/init.h>
#include <linux/module.h>
#include <linux/printk.h>

#include "front.h"

/*
 * Forwarded nodes by device number. Every class's open path ends up here
 * with the inode's i_rdev (the DRM and ALSA cores replace the file's
 * operations by ours before calling our open; evdev and V4L2 call it
 * through their cdevs): one lookup for all classes. The xarray's lock
 * orders a lookup against the connection's teardown.
 */
static DEFINE_XARRAY(pd_nodes);

int pd_node_register(dev_t devt, struct pd_export *exp)
{
	return xa_insert(&pd_nodes, devt, exp, GFP_KERNEL);
}

void pd_node_unregister(dev_t devt)
{
	xa_erase(&pd_nodes, devt);
}

/* The export behind a node, with a reference on its connection, or NULL
 * when the node is gone or its connection is closing.
 */
struct pd_export *pd_node_get(dev_t devt)
{
	struct pd_export *exp;

	xa_lock(&pd_nodes);
	exp = xa_load(&pd_nodes, devt);
	if (exp && !pd_conn_is_dead(exp->conn))
		pd_conn_get(exp->conn);
	else
		exp = NULL;
	xa_unlock(&pd_nodes);
	return exp;
}

static int __init pd_front_init(void)
{
	char why[128];
	int ret;

	ret = pd_ioc_check_tables(why, sizeof(why));
	if (ret) {
		pr_err("paradice: ioctl tables are broken: %s\n", why);
		return ret;
	}
	ret = pd_loop_init();
	if (ret)
		return ret;
	ret = pd_xen_init();
	if (ret) {
		pd_loop_exit();
		return ret;
	}
	pr_info("paradice: frontend loaded, wire ABI %u.%u\n",
		PD_WIRE_VERSION_MAJOR, PD_WIRE_VERSION_MINOR);
	return 0;
}

static void __exit pd_front_exit(void)
{
	pd_xen_exit();
	pd_loop_exit();
	pr_info("paradice: frontend unloaded\n");
}

module_init(pd_front_init);
module_exit(pd_front_exit);

MODULE_DESCRIPTION("Paradice: device files forwarded from the driver domain");
MODULE_AUTHOR("Paradice developers");
MODULE_LICENSE("GPL");
