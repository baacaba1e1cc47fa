// SPDX-License-Identifier: GPL-2.0-only
/*
 * The two registries of the frontend, at the bottom of its layers so that
 * a connection finds the class of an export and a file's open finds its
 * export without calling up into the files that provide them:
 *
 *   classes  by wire class (PD_WIRE_CLASS_*): which struct pd_class_ops
 *            makes the guest node of an export;
 *   nodes    by device number: the export behind a guest node, for every
 *            class's open.
 */
#include <linux/bits.h>
#include <linux/xarray.h>

#include "front.h"

/*
 * Written only at module init and exit, while no transport runs (no
 * connection exists), so readers take no lock.
 */
static const struct pd_class_ops *pd_classes[PD_WIRE_CLASS_COUNT];

int pd_class_register(const struct pd_class_ops *cls)
{
	unsigned int c;

	if (!cls->wire_classes || cls->wire_classes >> PD_WIRE_CLASS_COUNT ||
	    (cls->wire_classes & BIT(PD_WIRE_CLASS_NONE)))
		return -EINVAL;
	for (c = 0; c < PD_WIRE_CLASS_COUNT; c++)
		if ((cls->wire_classes & BIT(c)) && pd_classes[c])
			return -EBUSY;
	for (c = 0; c < PD_WIRE_CLASS_COUNT; c++)
		if (cls->wire_classes & BIT(c))
			pd_classes[c] = cls;
	return 0;
}

void pd_class_unregister(const struct pd_class_ops *cls)
{
	unsigned int c;

	for (c = 0; c < PD_WIRE_CLASS_COUNT; c++)
		if (pd_classes[c] == cls)
			pd_classes[c] = NULL;
}

const struct pd_class_ops *pd_class_find(u16 wire_class)
{
	return wire_class < PD_WIRE_CLASS_COUNT ? pd_classes[wire_class] : NULL;
}

/* Every class's conn_closed, once per class (one class may serve several
 * wire classes). Called with the connection's nodes_lock held.
 */
void pd_classes_conn_closed(struct pd_conn *conn)
{
	unsigned int c, d;

	for (c = 0; c < PD_WIRE_CLASS_COUNT; c++) {
		const struct pd_class_ops *cls = pd_classes[c];

		if (!cls || !cls->conn_closed)
			continue;
		for (d = 0; d < c; d++)
			if (pd_classes[d] == cls)
				break;
		if (d == c)
			cls->conn_closed(conn);
	}
}

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
