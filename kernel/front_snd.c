// SPDX-License-Identifier: GPL-2.0-only
/*
 * How forwarded ALSA files look to the guest: a snd_card per real card
 * (grouped by the C<n> of the export names), whose control and PCM nodes
 * are registered with snd_register_device() and pd_fops as their f_ops.
 * ALSA's snd_open() installs those on every file of such a minor, as DRM
 * does. alsa-lib finds the card by opening /dev/snd/controlC<n> and asking
 * it, then opens /dev/snd/pcmC<n>D<d><p|c>: every question reaches the
 * real card.
 *
 * snd_card_new() always gives a card its own control device (with no
 * elements). Ours must be the forwarded one, so that device is freed
 * before the card is registered (snd_device_free(card, card): the control
 * core registers itself as a snd_device whose data is the card) and our
 * node takes its place. The card's number in the guest differs from the
 * real one; CARD_INFO and PCM_INFO replies get the guest's number.
 */
#include <linux/platform_device.h>
#include <linux/slab.h>
#include <sound/asound.h>
#include <sound/core.h>
#include <sound/minors.h>

#include "front.h"

struct pd_snd_card {
	struct list_head node;		/* in conn->snd_cards */
	int real_number;		/* C<n> in the export names */
	struct snd_card *card;
};

struct pd_snd_node {
	struct device dev;
	struct pd_snd_card *sc;
};

static void pd_snd_node_free(struct device *dev)
{
	kfree(container_of(dev, struct pd_snd_node, dev));
}

/* Parse "controlC<n>" or "pcmC<n>D<d><p|c>". */
static int pd_snd_parse(const char *name, int *type, int *card, int *dev)
{
	char dir;

	if (sscanf(name, "controlC%d", card) == 1) {
		*type = SNDRV_DEVICE_TYPE_CONTROL;
		*dev = -1;
	} else if (sscanf(name, "pcmC%dD%d%c", card, dev, &dir) == 3 &&
		   (dir == 'p' || dir == 'c')) {
		*type = dir == 'p' ? SNDRV_DEVICE_TYPE_PCM_PLAYBACK :
				     SNDRV_DEVICE_TYPE_PCM_CAPTURE;
	} else {
		return -EINVAL;
	}
	return *card >= 0 && *card < 256 ? 0 : -EINVAL;
}

/* The names of the real card: from its control if the connection exports
 * it, else from the PCM being created.
 */
static void pd_snd_names(struct pd_export *exp, int real, struct snd_card *card)
{
	struct pd_conn *conn = exp->conn;
	struct snd_ctl_card_info *ci;
	struct snd_pcm_info *pi;
	struct pd_export *ctl = NULL;
	struct pd_file *pf;
	char want[24];
	unsigned int i;
	int ret;

	snprintf(want, sizeof(want), "controlC%d", real);
	for (i = 0; i < conn->nexports; i++)
		if (!strcmp(conn->exports[i].info.name, want))
			ctl = &conn->exports[i];
	ci = kzalloc(max(sizeof(*ci), sizeof(*pi)), GFP_KERNEL);
	if (!ci)
		return;
	pi = (void *)ci;
	pd_conn_get(conn);
	pf = pd_file_open(ctl ?: exp, O_RDWR | O_NONBLOCK, &ret);
	if (!pf)
		goto out;
	if (ctl && pd_ioctl_kernel(pf, SNDRV_CTL_IOCTL_CARD_INFO, ci) >= 0) {
		strscpy(card->driver, ci->driver, sizeof(card->driver));
		strscpy(card->shortname, ci->name, sizeof(card->shortname));
		strscpy(card->longname, ci->longname, sizeof(card->longname));
		strscpy(card->mixername, ci->mixername, sizeof(card->mixername));
		strscpy(card->components, ci->components,
			sizeof(card->components));
	} else if (!ctl && pd_ioctl_kernel(pf, SNDRV_PCM_IOCTL_INFO, pi) >= 0) {
		strscpy(card->driver, "paradice", sizeof(card->driver));
		strscpy(card->shortname, pi->name, sizeof(card->shortname));
		strscpy(card->longname, pi->name, sizeof(card->longname));
	}
	pd_file_close(pf);
out:
	kfree(ci);
}

static struct pd_snd_card *pd_snd_card_get(struct pd_export *exp, int real)
{
	struct pd_conn *conn = exp->conn;
	struct pd_snd_card *sc;
	char id[16];
	int ret;

	list_for_each_entry(sc, &conn->snd_cards, node)
		if (sc->real_number == real)
			return sc;
	sc = kzalloc(sizeof(*sc), GFP_KERNEL);
	if (!sc)
		return ERR_PTR(-ENOMEM);
	sc->real_number = real;
	snprintf(id, sizeof(id), "Paradice%u", conn->id);
	ret = snd_card_new(&conn->pdev->dev, -1, id, THIS_MODULE, 0,
			   &sc->card);
	if (ret) {
		kfree(sc);
		return ERR_PTR(ret);
	}
	/* the card's own (empty) control device goes; ours replaces it */
	snd_device_free(sc->card, sc->card);
	strscpy(sc->card->driver, "paradice", sizeof(sc->card->driver));
	strscpy(sc->card->shortname, "Paradice", sizeof(sc->card->shortname));
	strscpy(sc->card->longname, "Paradice forwarded card",
		sizeof(sc->card->longname));
	pd_snd_names(exp, real, sc->card);
	ret = snd_card_register(sc->card);
	if (ret) {
		snd_card_free(sc->card);
		kfree(sc);
		return ERR_PTR(ret);
	}
	list_add_tail(&sc->node, &conn->snd_cards);
	return sc;
}

static int pd_snd_create(struct pd_export *exp)
{
	struct pd_snd_node *sn;
	struct pd_snd_card *sc;
	int type, real, dev, ret;

	ret = pd_snd_parse(exp->info.name, &type, &real, &dev);
	if (ret)
		return ret;
	if ((type == SNDRV_DEVICE_TYPE_CONTROL) !=
	    (exp->info.class == PD_WIRE_CLASS_SND_CTL))
		return -EINVAL;
	sc = pd_snd_card_get(exp, real);
	if (IS_ERR(sc))
		return PTR_ERR(sc);
	sn = kzalloc(sizeof(*sn), GFP_KERNEL);
	if (!sn)
		return -ENOMEM;
	sn->sc = sc;
	snd_device_initialize(&sn->dev, sc->card);
	sn->dev.release = pd_snd_node_free;
	if (type == SNDRV_DEVICE_TYPE_CONTROL)
		dev_set_name(&sn->dev, "controlC%d", sc->card->number);
	else
		dev_set_name(&sn->dev, "pcmC%dD%d%c", sc->card->number, dev,
			     type == SNDRV_DEVICE_TYPE_PCM_PLAYBACK ? 'p' : 'c');
	ret = snd_register_device(type, sc->card, dev, &pd_fops, exp,
				  &sn->dev);
	if (ret) {
		put_device(&sn->dev);
		return ret;
	}
	exp->devt = sn->dev.devt;
	snprintf(exp->path, sizeof(exp->path), "/dev/snd/%s",
		 dev_name(&sn->dev));
	ret = pd_node_register(exp->devt, exp);
	if (ret) {
		snd_unregister_device(&sn->dev);
		put_device(&sn->dev);
		return ret;
	}
	exp->cls_priv = sn;
	exp->snd_card_number = sc->card->number;
	return 0;
}

static void pd_snd_destroy(struct pd_export *exp)
{
	struct pd_snd_node *sn = exp->cls_priv;

	pd_node_unregister(exp->devt);
	snd_unregister_device(&sn->dev);
	put_device(&sn->dev);
	exp->cls_priv = NULL;
}

/* After every node of the connection is gone: free its cards. */
static void pd_snd_conn_closed(struct pd_conn *conn)
{
	struct pd_snd_card *sc, *tmp;

	list_for_each_entry_safe(sc, tmp, &conn->snd_cards, node) {
		list_del(&sc->node);
		snd_card_free_when_closed(sc->card);
		kfree(sc);
	}
}

/* The guest's card number, not the real one. */
static void pd_snd_ioctl_fixup(struct pd_file *pf, unsigned int cmd,
			       unsigned long arg, long ret)
{
	int number = pf->exp->snd_card_number;

	if (ret < 0)
		return;
	switch (cmd) {
	case SNDRV_CTL_IOCTL_CARD_INFO:
		if (put_user(number,
			     &((struct snd_ctl_card_info __user *)arg)->card))
			return;
		break;
	case SNDRV_PCM_IOCTL_INFO:
		if (put_user(number, &((struct snd_pcm_info __user *)arg)->card))
			return;
		break;
	default:
		break;
	}
}

const struct pd_class_ops pd_snd_class = {
	.name = "snd",
	.wire_classes = BIT(PD_WIRE_CLASS_SND_CTL) | BIT(PD_WIRE_CLASS_SND_PCM),
	.create = pd_snd_create,
	.destroy = pd_snd_destroy,
	.ioctl_fixup = pd_snd_ioctl_fixup,
	.conn_closed = pd_snd_conn_closed,
};
