// SPDX-License-Identifier: GPL-2.0-only
/*
 * The Xen transport's xenbus frontend (front_xen.h), device type
 * "paradice": the XenbusState handshake with the backend (the state
 * diagram is in pd_wire.h), what it publishes in XenStore, and the
 * transport's ops table for the connection it carries (front_conn.c):
 * messages through the rings (front_xen_ring.c), mmap through the
 * backend's grants (front_xenmap.c).
 */
#include <linux/module.h>
#include <linux/slab.h>

#include <xen/xen.h>

#include "front_xen.h"

static int pdx_publish(struct pdx *px, evtchn_port_t req_port,
		       evtchn_port_t evt_port)
{
	struct xenbus_transaction xbt;
	const char *path = px->dev->nodename;
	int ret;

again:
	ret = xenbus_transaction_start(&xbt);
	if (ret)
		return ret;
	ret = xenbus_printf(xbt, path, "version", "%u", PD_WIRE_VERSION_MAJOR) ?:
	      xenbus_printf(xbt, path, "req-ring-ref", "%u", px->req_ref) ?:
	      xenbus_printf(xbt, path, "req-event-channel", "%u", req_port) ?:
	      xenbus_printf(xbt, path, "evt-ring-ref", "%u", px->evt_ref) ?:
	      xenbus_printf(xbt, path, "evt-event-channel", "%u", evt_port) ?:
	      xenbus_printf(xbt, path, "data-dir-ref", "%u",
			    pdx_shbuf_dir_ref(&px->shbuf)) ?:
	      xenbus_printf(xbt, path, "data-pages", "%u", PDX_DATA_PAGES);
	if (ret) {
		xenbus_transaction_end(xbt, 1);
		return ret;
	}
	ret = xenbus_transaction_end(xbt, 0);
	if (ret == -EAGAIN)
		goto again;
	return ret;
}

/*
 * The backend waits in InitWait: check that it speaks our major, set up
 * the rings, the data area and the event channels, publish them and go to
 * Initialised.
 */
static int pdx_setup(struct pdx *px)
{
	struct xenbus_device *dev = px->dev;
	evtchn_port_t req_port, evt_port;
	char *versions;
	int ret;

	versions = xenbus_read(XBT_NIL, dev->otherend, "versions", NULL);
	if (IS_ERR(versions))
		return PTR_ERR(versions);
	ret = strcmp(versions, __stringify(PD_WIRE_VERSION_MAJOR)) ? -EPROTO : 0;
	kfree(versions);
	if (ret) {
		xenbus_dev_fatal(dev, ret, "backend speaks no version %u",
				 PD_WIRE_VERSION_MAJOR);
		return ret;
	}

	ret = pdx_shbuf_init(&px->shbuf, dev);
	if (ret)
		goto fail;
	ret = pdx_rings_init(px, &req_port, &evt_port);
	if (ret)
		goto fail;

	ret = pdx_publish(px, req_port, evt_port);
	if (ret) {
		xenbus_dev_fatal(dev, ret, "writing XenStore");
		goto fail;
	}
	return xenbus_switch_state(dev, XenbusStateInitialised);
fail:
	if (ret != -EPROTO)
		xenbus_dev_fatal(dev, ret, "setting up rings");
	pdx_rings_finish(px);
	pdx_shbuf_finish(&px->shbuf);
	return ret;
}

/* mmap: the backend's grants into the program's page tables */
static int pdx_mmap(struct pd_file *pf, struct vm_area_struct *vma)
{
	struct pdx *px = pf->conn->tp_priv;

	return pd_xmap_mmap(pf, vma, (u16)px->dev->otherend_id);
}

static const struct pd_transport_ops pdx_ops = {
	.name = "xen",
	.features = PD_WIRE_FEAT_POLL_EVENTS | PD_WIRE_FEAT_FASYNC |
		    PD_WIRE_FEAT_NEWFD | PD_WIRE_FEAT_CANCEL |
		    PD_WIRE_FEAT_REVOKE | PD_WIRE_FEAT_MMAP,
	.send = pdx_send,
	.unsend = pdx_unsend,
	.mmap = pdx_mmap,
	.revoke_map = pd_xmap_revoke,
	.conn_closed = pd_xmap_conn_closed,
};

/* The backend is Connected: start the connection (CONNECT, exports,
 * nodes; front_conn.c) over the rings. */
static int pdx_connect(struct pdx *px)
{
	px->conn = pd_conn_create(&pdx_ops, px);
	if (!px->conn)
		return -ENOMEM;
	pdx_io_open(px);
	pd_conn_start(px->conn);
	dev_info(&px->dev->dev, "connected to domain %d, conn %u\n",
		 px->dev->otherend_id, px->conn->id);
	return xenbus_switch_state(px->dev, XenbusStateConnected);
}

/*
 * The connection ends (the backend closes, restarts or vanishes, or the
 * device goes away): nothing new is sent, every request in flight and
 * every later one fails with -EIO, the guest nodes go, and the shared
 * memory is withdrawn. Open guest files stay valid and get -EIO.
 */
static void pdx_disconnect(struct pdx *px)
{
	pdx_io_close(px);

	if (px->conn) {
		/* fails the requests (queued ones too: they are in conn->reqs) */
		pd_conn_close(px->conn);
	}
	if (px->rings_up || pdx_shbuf_allocated(&px->shbuf)) {
		pdx_rings_finish(px);
		pdx_shbuf_finish(&px->shbuf);
	}
	if (px->conn) {
		dev_info(&px->dev->dev, "conn %u closed\n", px->conn->id);
		pd_conn_put(px->conn);
		px->conn = NULL;
	}
}

static void pdx_backend_changed(struct xenbus_device *dev,
				enum xenbus_state backend_state)
{
	struct pdx *px = dev_get_drvdata(&dev->dev);

	mutex_lock(&px->state_lock);
	dev_dbg(&dev->dev, "backend %s, we are %s\n",
		xenbus_strstate(backend_state), xenbus_strstate(dev->state));
	switch (backend_state) {
	case XenbusStateInitWait:
		/* a new backend (or a restarted one): start over */
		if (dev->state != XenbusStateInitialising &&
		    dev->state != XenbusStateClosed)
			pdx_disconnect(px);
		if (dev->state != XenbusStateInitialising)
			xenbus_switch_state(dev, XenbusStateInitialising);
		pdx_setup(px);
		break;
	case XenbusStateConnected:
		if (dev->state == XenbusStateInitialised && !px->conn)
			if (pdx_connect(px))
				xenbus_dev_fatal(dev, -ENOMEM, "connecting");
		break;
	case XenbusStateClosing:
	case XenbusStateClosed:
	case XenbusStateUnknown:
		pdx_disconnect(px);
		if (dev->state != XenbusStateClosed)
			xenbus_frontend_closed(dev);
		break;
	default:
		break;
	}
	mutex_unlock(&px->state_lock);
}

static int pdx_probe(struct xenbus_device *dev,
		     const struct xenbus_device_id *id)
{
	struct pdx *px = kzalloc(sizeof(*px), GFP_KERNEL);

	if (!px) {
		xenbus_dev_fatal(dev, -ENOMEM, "allocating state");
		return -ENOMEM;
	}
	px->dev = dev;
	mutex_init(&px->state_lock);
	pdx_io_init(px);
	dev_set_drvdata(&dev->dev, px);
	return 0;
}

static void pdx_remove(struct xenbus_device *dev)
{
	struct pdx *px = dev_get_drvdata(&dev->dev);

	mutex_lock(&px->state_lock);
	pdx_disconnect(px);
	mutex_unlock(&px->state_lock);
	dev_set_drvdata(&dev->dev, NULL);
	kfree(px);
}

static const struct xenbus_device_id pdx_ids[] = {
	{ PD_WIRE_XENBUS_DEVICE_TYPE },
	{ "" }
};

static struct xenbus_driver pdx_driver = {
	.ids = pdx_ids,
	.probe = pdx_probe,
	.remove = pdx_remove,
	.otherend_changed = pdx_backend_changed,
	.not_essential = true,
};

int pd_xen_init(void)
{
	if (!xen_domain())
		return 0;
	return xenbus_register_frontend(&pdx_driver);
}

void pd_xen_exit(void)
{
	if (!xen_domain())
		return;
	xenbus_unregister_driver(&pdx_driver);
}
