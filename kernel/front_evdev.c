// SPDX-License-Identifier: GPL-2.0-only
/*
 * How a forwarded evdev file looks to the guest. udev's input_id builtin
 * (which sets ID_INPUT, ID_INPUT_KEYBOARD ...) walks up from eventN to the
 * first parent with a capabilities/ev attribute; libinput then takes the
 * devices udev tagged and asks the rest by ioctl. So the node is:
 *
 *   /sys/class/input/pdinput<conn>_<index>   a device in input_class with
 *       name, phys, uniq, properties, id/{bustype,vendor,product,version},
 *       capabilities/{ev,key,rel,abs,msc,led,snd,ff,sw}, formatted as
 *       drivers/input/input.c formats them, copied from the real device
 *   /sys/class/input/eventN                  its child, with the dev_t of
 *       an input minor from input_get_new_minor() and our cdev (pd_fops)
 *
 * No input_dev is registered: evdev would bind to it and create a second
 * node, and the input core would feed it events of its own. The parent is
 * not named inputN either, which the input core hands out from its own
 * counter.
 */
#include <linux/cdev.h>
#include <linux/input.h>
#include <linux/major.h>
#include <linux/platform_device.h>
#include <linux/poll.h>
#include <linux/slab.h>

#include "front.h"

/* evdev's own legacy range (drivers/input/evdev.c) */
#define PD_EVDEV_MINOR_BASE	64
#define PD_EVDEV_MINORS		32

struct pd_evdev {
	/* Both devices are embedded and released independently: an open
	 * file pins the cdev, which pins the event device, but a deleted
	 * event device no longer pins its parent. The last release frees.
	 */
	refcount_t releases;
	struct device input;	/* the capabilities parent */
	struct device event;	/* eventN */
	struct cdev cdev;
	int minor;
	char name[128];
	char phys[64];
	char uniq[64];
	struct input_id id;
	unsigned long propbit[BITS_TO_LONGS(INPUT_PROP_CNT)];
	unsigned long evbit[BITS_TO_LONGS(EV_CNT)];
	unsigned long keybit[BITS_TO_LONGS(KEY_CNT)];
	unsigned long relbit[BITS_TO_LONGS(REL_CNT)];
	unsigned long absbit[BITS_TO_LONGS(ABS_CNT)];
	unsigned long mscbit[BITS_TO_LONGS(MSC_CNT)];
	unsigned long ledbit[BITS_TO_LONGS(LED_CNT)];
	unsigned long sndbit[BITS_TO_LONGS(SND_CNT)];
	unsigned long ffbit[BITS_TO_LONGS(FF_CNT)];
	unsigned long swbit[BITS_TO_LONGS(SW_CNT)];
};

#define to_pd_evdev(d) container_of(d, struct pd_evdev, input)

/* As input_print_bitmap() in drivers/input/input.c (64-bit). */
static ssize_t print_bitmap(char *buf, const unsigned long *bitmap, int max)
{
	bool skip_empty = true;
	int i, len = 0;

	for (i = BITS_TO_LONGS(max) - 1; i >= 0; i--) {
		if (bitmap[i] || !skip_empty)
			len += scnprintf(buf + len, PAGE_SIZE - len, "%lx",
					 bitmap[i]);
		if (len) {
			skip_empty = false;
			if (i > 0)
				len += scnprintf(buf + len, PAGE_SIZE - len, " ");
		}
	}
	if (!len)
		len = scnprintf(buf, PAGE_SIZE, "0");
	len += scnprintf(buf + len, PAGE_SIZE - len, "\n");
	return len;
}

#define PD_STR_ATTR(field)						\
static ssize_t field##_show(struct device *dev,			\
			    struct device_attribute *attr, char *buf)	\
{									\
	return scnprintf(buf, PAGE_SIZE, "%s\n", to_pd_evdev(dev)->field); \
}									\
static DEVICE_ATTR_RO(field)

PD_STR_ATTR(name);
PD_STR_ATTR(phys);
PD_STR_ATTR(uniq);

static ssize_t properties_show(struct device *dev,
			       struct device_attribute *attr, char *buf)
{
	return print_bitmap(buf, to_pd_evdev(dev)->propbit, INPUT_PROP_MAX);
}
static DEVICE_ATTR_RO(properties);

static struct attribute *pd_evdev_attrs[] = {
	&dev_attr_name.attr,
	&dev_attr_phys.attr,
	&dev_attr_uniq.attr,
	&dev_attr_properties.attr,
	NULL
};

static const struct attribute_group pd_evdev_attr_group = {
	.attrs = pd_evdev_attrs,
};

#define PD_ID_ATTR(field)						\
static ssize_t field##_show(struct device *dev,			\
			    struct device_attribute *attr, char *buf)	\
{									\
	return scnprintf(buf, PAGE_SIZE, "%04x\n",			\
			 to_pd_evdev(dev)->id.field);			\
}									\
static DEVICE_ATTR_RO(field)

PD_ID_ATTR(bustype);
PD_ID_ATTR(vendor);
PD_ID_ATTR(product);
PD_ID_ATTR(version);

static struct attribute *pd_evdev_id_attrs[] = {
	&dev_attr_bustype.attr,
	&dev_attr_vendor.attr,
	&dev_attr_product.attr,
	&dev_attr_version.attr,
	NULL
};

static const struct attribute_group pd_evdev_id_group = {
	.name = "id",
	.attrs = pd_evdev_id_attrs,
};

#define PD_CAP_ATTR(cap, bits, max)					\
static ssize_t cap##_show(struct device *dev,				\
			  struct device_attribute *attr, char *buf)	\
{									\
	return print_bitmap(buf, to_pd_evdev(dev)->bits, max);		\
}									\
static struct device_attribute dev_attr_cap_##cap = __ATTR_RO(cap)

PD_CAP_ATTR(ev, evbit, EV_MAX);
PD_CAP_ATTR(key, keybit, KEY_MAX);
PD_CAP_ATTR(rel, relbit, REL_MAX);
PD_CAP_ATTR(abs, absbit, ABS_MAX);
PD_CAP_ATTR(msc, mscbit, MSC_MAX);
PD_CAP_ATTR(led, ledbit, LED_MAX);
PD_CAP_ATTR(snd, sndbit, SND_MAX);
PD_CAP_ATTR(ff, ffbit, FF_MAX);
PD_CAP_ATTR(sw, swbit, SW_MAX);

static struct attribute *pd_evdev_cap_attrs[] = {
	&dev_attr_cap_ev.attr,
	&dev_attr_cap_key.attr,
	&dev_attr_cap_rel.attr,
	&dev_attr_cap_abs.attr,
	&dev_attr_cap_msc.attr,
	&dev_attr_cap_led.attr,
	&dev_attr_cap_snd.attr,
	&dev_attr_cap_ff.attr,
	&dev_attr_cap_sw.attr,
	NULL
};

static const struct attribute_group pd_evdev_cap_group = {
	.name = "capabilities",
	.attrs = pd_evdev_cap_attrs,
};

static const struct attribute_group *pd_evdev_groups[] = {
	&pd_evdev_attr_group,
	&pd_evdev_id_group,
	&pd_evdev_cap_group,
	NULL
};

static void pd_evdev_put(struct pd_evdev *pe)
{
	if (!refcount_dec_and_test(&pe->releases))
		return;
	if (pe->minor >= 0)
		input_free_minor(pe->minor);
	kfree(pe);
}

static void pd_evdev_input_release(struct device *dev)
{
	pd_evdev_put(to_pd_evdev(dev));
}

static void pd_evdev_event_release(struct device *dev)
{
	pd_evdev_put(container_of(dev, struct pd_evdev, event));
}

/* Ask the real device who it is, with ioctls the module forwards. */
static int pd_evdev_query(struct pd_export *exp, struct pd_evdev *pe)
{
	static const struct {
		unsigned int ev;
		size_t off, len;
	} bits[] = {
		{ 0, offsetof(struct pd_evdev, evbit), sizeof(pe->evbit) },
		{ EV_KEY, offsetof(struct pd_evdev, keybit), sizeof(pe->keybit) },
		{ EV_REL, offsetof(struct pd_evdev, relbit), sizeof(pe->relbit) },
		{ EV_ABS, offsetof(struct pd_evdev, absbit), sizeof(pe->absbit) },
		{ EV_MSC, offsetof(struct pd_evdev, mscbit), sizeof(pe->mscbit) },
		{ EV_LED, offsetof(struct pd_evdev, ledbit), sizeof(pe->ledbit) },
		{ EV_SND, offsetof(struct pd_evdev, sndbit), sizeof(pe->sndbit) },
		{ EV_FF, offsetof(struct pd_evdev, ffbit), sizeof(pe->ffbit) },
		{ EV_SW, offsetof(struct pd_evdev, swbit), sizeof(pe->swbit) },
	};
	struct pd_file *pf;
	unsigned int i;
	int ret;

	pd_conn_get(exp->conn);
	pf = pd_file_open(exp, O_RDONLY | O_NONBLOCK, &ret);
	if (!pf)
		return ret;
	ret = pd_ioctl_kernel(pf, EVIOCGID, &pe->id);
	if (ret < 0)
		goto out;
	ret = pd_ioctl_kernel(pf, EVIOCGNAME(sizeof(pe->name) - 1), pe->name);
	if (ret < 0)
		goto out;
	/* a device may have no phys, uniq or properties */
	pd_ioctl_kernel(pf, EVIOCGPHYS(sizeof(pe->phys) - 1), pe->phys);
	pd_ioctl_kernel(pf, EVIOCGUNIQ(sizeof(pe->uniq) - 1), pe->uniq);
	pd_ioctl_kernel(pf, EVIOCGPROP(sizeof(pe->propbit)), pe->propbit);
	for (i = 0; i < ARRAY_SIZE(bits); i++) {
		ret = pd_ioctl_kernel(pf, EVIOCGBIT(bits[i].ev, bits[i].len),
				      (u8 *)pe + bits[i].off);
		if (ret < 0 && bits[i].ev == 0)
			goto out;
	}
	ret = 0;
out:
	pd_file_close(pf);
	return ret;
}

static int pd_evdev_create(struct pd_export *exp)
{
	struct pd_conn *conn = exp->conn;
	struct pd_evdev *pe;
	int minor, ret;

	pe = kzalloc(sizeof(*pe), GFP_KERNEL);
	if (!pe)
		return -ENOMEM;
	pe->minor = -1;
	ret = pd_evdev_query(exp, pe);
	if (ret) {
		kfree(pe);
		return ret;
	}
	minor = input_get_new_minor(PD_EVDEV_MINOR_BASE, PD_EVDEV_MINORS, true);
	if (minor < 0) {
		kfree(pe);
		return minor;
	}
	pe->minor = minor;

	refcount_set(&pe->releases, 2);
	device_initialize(&pe->input);
	pe->input.class = &input_class;
	pe->input.parent = &conn->pdev->dev;
	pe->input.groups = pd_evdev_groups;
	pe->input.release = pd_evdev_input_release;
	device_initialize(&pe->event);
	pe->event.release = pd_evdev_event_release;
	dev_set_name(&pe->input, "pdinput%u_%u", conn->id, exp->index);
	ret = device_add(&pe->input);
	if (ret)
		goto err_put_both;

	pe->event.class = &input_class;
	pe->event.parent = &pe->input;
	pe->event.devt = MKDEV(INPUT_MAJOR, minor);
	if (minor < PD_EVDEV_MINOR_BASE + PD_EVDEV_MINORS)
		minor -= PD_EVDEV_MINOR_BASE;
	dev_set_name(&pe->event, "event%d", minor);
	cdev_init(&pe->cdev, &pd_fops);
	pe->cdev.owner = THIS_MODULE;
	exp->devt = pe->event.devt;
	/* registered before the node shows, so that no open misses it */
	ret = pd_node_register(exp->devt, exp);
	if (ret)
		goto err_put_event;
	ret = cdev_device_add(&pe->cdev, &pe->event);
	if (ret)
		goto err_unregister;
	snprintf(exp->path, sizeof(exp->path), "/dev/input/%s",
		 dev_name(&pe->event));
	exp->cls_priv = pe;
	return 0;

err_unregister:
	pd_node_unregister(exp->devt);
err_put_event:
	device_del(&pe->input);
err_put_both:
	put_device(&pe->event);
	put_device(&pe->input);
	return ret;
}

static void pd_evdev_destroy(struct pd_export *exp)
{
	struct pd_evdev *pe = exp->cls_priv;

	pd_node_unregister(exp->devt);
	cdev_device_del(&pe->cdev, &pe->event);
	put_device(&pe->event);
	device_del(&pe->input);
	put_device(&pe->input);
	exp->cls_priv = NULL;
}

/* The event type whose held events an evdev query drops natively
 * (evdev_handle_get_val()): EVIOCGKEY, LED, SND, SW of any length; else 0. */
static u16 evdev_query_drops(unsigned int cmd)
{
	if (_IOC_TYPE(cmd) != 'E' || _IOC_DIR(cmd) != _IOC_READ)
		return 0;
	switch (_IOC_NR(cmd)) {
	case _IOC_NR(EVIOCGKEY(0)):
		return EV_KEY;
	case _IOC_NR(EVIOCGLED(0)):
		return EV_LED;
	case _IOC_NR(EVIOCGSND(0)):
		return EV_SND;
	case _IOC_NR(EVIOCGSW(0)):
		return EV_SW;
	}
	return 0;
}

/*
 * What an evdev ioctl does to the events a file holds (pushed ones, here)
 * natively: EVIOCREVOKE ends reading (-ENODEV) and poll says EPOLLERR |
 * EPOLLHUP at once; EVIOCSCLOCKID with another clock drops what is
 * queued and, if anything was, queues a SYN_DROPPED (evdev_set_clk_type();
 * ours has no time); EVIOCGKEY, LED, SND and SW drop the held events of
 * their type (the state they return has them: pd_evbuf_flush_type()).
 * The real ioctl did the same to the backend's queue. The class's
 * ioctl_fixup, so 32-bit programs' calls get it too. An event pushed
 * after the real ioctl ran but before this runs goes too: the window of
 * one reply's delivery.
 */
static void pd_evdev_ioctl_fixup(struct pd_file *pf, unsigned int cmd,
				 unsigned long arg, long ret)
{
	struct input_event drop = { .type = EV_SYN, .code = SYN_DROPPED };
	u16 type = evdev_query_drops(cmd);
	unsigned long flags;
	int clk;

	if (ret < 0 || !pf->evbuf)
		return;
	if (cmd != EVIOCREVOKE && !type &&
	    (cmd != EVIOCSCLOCKID || get_user(clk, (int __user *)arg)))
		return;
	/* a reader copies the first bytes out without the spinlock */
	mutex_lock(&pf->ev_read_lock);
	if (type) {
		spin_lock_irqsave(&pf->as->lock, flags);
		pd_evbuf_flush_type(pf->evbuf, type,
				    offsetof(struct input_event, type));
		spin_unlock_irqrestore(&pf->as->lock, flags);
	} else if (cmd == EVIOCREVOKE) {
		spin_lock_irqsave(&pf->as->lock, flags);
		pf->evbuf->len = 0;
		spin_unlock_irqrestore(&pf->as->lock, flags);
		WRITE_ONCE(pf->revoked, true);
		wake_up_poll(&pf->poll_wq, EPOLLERR | EPOLLHUP);
	} else if (clk != pf->ev_clock) {
		pf->ev_clock = clk;
		spin_lock_irqsave(&pf->as->lock, flags);
		if (pf->evbuf->len) {
			pd_memcpy(pf->evbuf->data, &drop, sizeof(drop));
			pf->evbuf->len = sizeof(drop);
		}
		spin_unlock_irqrestore(&pf->as->lock, flags);
	}
	mutex_unlock(&pf->ev_read_lock);
}

const struct pd_class_ops pd_evdev_class = {
	.name = "evdev",
	.wire_classes = BIT(PD_WIRE_CLASS_EVDEV),
	.create = pd_evdev_create,
	.destroy = pd_evdev_destroy,
	.ioctl_fixup = pd_evdev_ioctl_fixup,
};
