// SPDX-License-Identifier: GPL-2.0-only
/*
 * The self-check of one table: every descriptor well formed, parents before
 * children, every field inside what holds it, every count bounded, no
 * command matched twice, a learn hook wherever an entry teaches the file
 * state. The walk checks bounds again at run time; this catches table
 * mistakes at test time and at module load (pd_ioc_check_tables() in
 * pd_ioc_class.c runs it over every registered table).
 */
#include "pd_ioctl.h"
struct why {
	char *p;
	unsigned int len, used;
};

static void why_str(struct why *y, const char *s)
{
	while (s && *s && y->used + 1 < y->len)
		y->p[y->used++] = *s++;
	if (y->len)
		y->p[y->used] = 0;
}

static int fail(char *why, unsigned int why_len, const struct pd_ioc_table *t,
		const struct pd_ioc_entry *e, const char *msg)
{
	struct why y = { .p = why, .len = why_len };

	if (why && why_len) {
		why_str(&y, t->name);
		why_str(&y, ": ");
		why_str(&y, e ? e->name : "(table)");
		why_str(&y, ": ");
		why_str(&y, msg);
	}
	return -EINVAL;
}

/* Does the element a descriptor's fields live in have this many bytes? */
static bool fits_parent(const struct pd_ioc_entry *e, unsigned int flags,
			const struct pd_ioc_desc *d, unsigned int end)
{
	if (d->parent == PD_IOC_PARENT_ARG) {
		if (flags & PD_IOC_F_VARSIZE)
			return end <= _IOC_SIZE(e->cmd) || end <= e->max_size;
		return end <= pd_ioc_arg_size(e, flags, e->cmd);
	}
	return end <= e->desc[d->parent].elem;
}

static unsigned int parent_dir(const struct pd_ioc_entry *e,
			       unsigned int flags, const struct pd_ioc_desc *d)
{
	if (d->parent == PD_IOC_PARENT_ARG)
		return pd_ioc_arg_dir(e, flags, e->cmd);
	return e->desc[d->parent].dir;
}

static const char *check_desc(const struct pd_ioc_entry *e,
			      unsigned int flags, unsigned int di,
			      bool *stateful)
{
	const struct pd_ioc_desc *d = &e->desc[di];
	unsigned int argdir = pd_ioc_arg_dir(e, flags, e->cmd);
	unsigned int pdir, i;

	for (i = 0; i < PD_ARRAY_SIZE(d->cond); i++) {
		const struct pd_ioc_cond *c = &d->cond[i];

		if (c->op == PD_IOC_C_NONE)
			continue;
		if (c->op > PD_IOC_C_NOT_IN || !pd_ioc_valid_width(c->width))
			return "bad condition";
		if (d->flags & PD_IOC_DF_ELEM_COND) {
			if (!(parent_dir(e, flags, d) & PD_IOC_IN))
				return "condition on an element never read";
			if (d->parent != PD_IOC_PARENT_ARG &&
			    (d->parent >= di ||
			     e->desc[d->parent].kind != PD_IOC_D_PTR))
				return "parent is not an earlier descriptor";
			if (!fits_parent(e, flags, d, c->off + c->width))
				return "condition outside its element";
			continue;
		}
		if (!(argdir & PD_IOC_IN))
			return "condition on an argument never read";
		if (c->off + c->width > pd_ioc_arg_size(e, flags, e->cmd))
			return "condition outside the argument";
	}
	if ((d->flags & PD_IOC_DF_ELEM_COND) &&
	    (d->flags & PD_IOC_DF_POST_COND))
		return "element conditions are decided before the call";
	if ((d->flags & PD_IOC_DF_ELEM_COND) &&
	    d->cond[0].op == PD_IOC_C_NONE)
		return "element condition flag without a condition";
	if (d->parent != PD_IOC_PARENT_ARG) {
		const struct pd_ioc_desc *p;

		if (d->parent >= di)
			return "parent is not an earlier descriptor";
		p = &e->desc[d->parent];
		if (p->kind != PD_IOC_D_PTR || p->scale != PD_IOC_S_ELEM ||
		    p->count == PD_IOC_N_SELECT || !p->elem)
			return "parent is not an array of elements";
	}
	pdir = parent_dir(e, flags, d);

	if ((d->flags & PD_IOC_DF_POST_COND) &&
	    (d->kind != PD_IOC_D_SCRUB || !(argdir & PD_IOC_OUT)))
		return "only scrubs of a returned argument decide after the call";

	switch (d->kind) {
	case PD_IOC_D_TAIL:
		if (di != 0 || d->parent != PD_IOC_PARENT_ARG)
			return "a tail must be the first descriptor";
		fallthrough;
	case PD_IOC_D_PTR:
		if (!(pdir & PD_IOC_IN))
			return "pointer in a buffer never read";
		if (!d->dir || (d->dir & ~PD_IOC_INOUT))
			return "buffer without direction";
		if (d->kind == PD_IOC_D_PTR &&
		    (d->width != 8 || !fits_parent(e, flags, d, d->off + 8)))
			return "pointer field outside its parent";
		if (d->scale == PD_IOC_S_ELEM && !d->elem)
			return "zero element size";
		if (d->scale > PD_IOC_S_SAMPLE)
			return "bad scale";
		if (d->scale != PD_IOC_S_ELEM || d->count == PD_IOC_N_CHANNELS)
			*stateful = true;
		if (d->alloc_min > PD_WIRE_IOCTL_MAX_BUF)
			return "alloc_min over the buffer bound";
		switch (d->count) {
		case PD_IOC_N_ONE:
			if (d->elem > PD_WIRE_IOCTL_MAX_BUF)
				return "fixed size over the buffer bound";
			break;
		case PD_IOC_N_FIELD:
			if (!pd_ioc_valid_width(d->count_width) ||
			    !fits_parent(e, flags, d,
					 d->count_off + d->count_width))
				return "count field outside its parent";
			break;
		case PD_IOC_N_ARG:
		case PD_IOC_N_SELECT:
			if (!pd_ioc_valid_width(d->count_width) ||
			    d->count_off + d->count_width >
			    pd_ioc_arg_size(e, flags, e->cmd) ||
			    !(argdir & PD_IOC_IN))
				return "count field outside the argument";
			if (d->count == PD_IOC_N_SELECT &&
			    (!d->select || !d->nselect))
				return "selector without choices";
			break;
		case PD_IOC_N_SUM: {
			const struct pd_ioc_desc *s;

			if (d->count_off >= di)
				return "sum of a later descriptor";
			s = &e->desc[d->count_off];
			if (s->kind != PD_IOC_D_PTR || s->elem != 4 ||
			    s->scale != PD_IOC_S_ELEM ||
			    s->parent != PD_IOC_PARENT_ARG ||
			    !(s->dir & PD_IOC_IN))
				return "sum of something not a u32 array";
			break;
		}
		case PD_IOC_N_CHANNELS:
			*stateful = true;
			break;
		default:
			return "bad count rule";
		}
		if (d->count != PD_IOC_N_ONE && d->count != PD_IOC_N_SELECT &&
		    !d->max)
			return "unbounded count";
		if ((d->flags & PD_IOC_DF_CLAMP) &&
		    d->count != PD_IOC_N_FIELD && d->count != PD_IOC_N_ARG)
			return "clamp of a count that is no field";
		if ((d->flags & PD_IOC_DF_VALUE_IF_EMPTY) &&
		    d->kind != PD_IOC_D_PTR)
			return "value-if-empty on a non-pointer";
		switch (d->out) {
		case PD_IOC_O_FULL:
		case PD_IOC_O_RET:
			break;
		case PD_IOC_O_FIELD:
			if (!(pdir & PD_IOC_OUT) ||
			    !pd_ioc_valid_width(d->count_width) ||
			    !fits_parent(e, flags, d,
					 d->out_off + d->count_width))
				return "out count outside its parent";
			break;
		case PD_IOC_O_ARG:
			if (!(argdir & PD_IOC_OUT) ||
			    !pd_ioc_valid_width(d->count_width) ||
			    d->out_off + d->count_width >
			    pd_ioc_arg_size(e, flags, e->cmd))
				return "out count outside the argument";
			break;
		default:
			return "bad out rule";
		}
		if (d->out != PD_IOC_O_FULL && !(d->dir & PD_IOC_OUT))
			return "out rule on a buffer never written";
		return NULL;
	case PD_IOC_D_FD_IN:
		if (!(pdir & PD_IOC_IN))
			return "fd in a buffer never read";
		fallthrough;
	case PD_IOC_D_FD_NEW:
		if (d->width != 4)
			return "fd field is not 32 bits";
		fallthrough;
	case PD_IOC_D_SCRUB:
		if (!pd_ioc_valid_width(d->width) ||
		    !fits_parent(e, flags, d, d->off + d->width))
			return "field outside its parent";
		if (d->kind != PD_IOC_D_FD_IN && !(pdir & PD_IOC_OUT))
			return "returned field in a buffer never written";
		return NULL;
	case PD_IOC_D_REJECT:
		if (d->flags & PD_IOC_DF_POST_COND)
			return "reject decided after the call";
		if (d->val <= 0)
			return "reject without an errno";
		if (d->cond[0].op == PD_IOC_C_NONE)
			return "reject without a condition";
		return NULL;
	default:
		return "bad kind";
	}
}

/*
 * Check one table against the rules the walk relies on: parents before
 * children, every field inside what holds it, every count bounded, no
 * command matched twice. The walk checks bounds again at run time; this
 * catches table mistakes at test time and at module load.
 */
int pd_ioc_check_table(const struct pd_ioc_table *t, char *why,
		       unsigned int why_len)
{
	unsigned int i, j, di;

	if (!t || !t->name || !t->entries)
		return fail(why, why_len, t, NULL, "empty table");
	for (i = 0; i < t->count; i++) {
		const struct pd_ioc_entry *e = &t->entries[i];
		unsigned int flags = e->flags | t->flags;
		bool stateful = false;
		const char *msg;

		if (!e->name)
			return fail(why, why_len, t, e, "no name");
		if (e->ndesc > PD_IOC_MAX_DESC || (!e->desc != !e->ndesc))
			return fail(why, why_len, t, e, "bad descriptor list");
		if (flags & PD_IOC_F_VARSIZE) {
			if (e->nr_last < _IOC_NR(e->cmd) ||
			    e->max_size > _IOC_SIZEMASK ||
			    (flags & PD_IOC_F_ARG_VALUE))
				return fail(why, why_len, t, e, "bad range");
		} else if (e->nr_last || e->max_size) {
			return fail(why, why_len, t, e, "range on a fixed command");
		}
		if ((flags & PD_IOC_F_ARG_FD) && !(flags & PD_IOC_F_ARG_VALUE))
			return fail(why, why_len, t, e, "fd argument not a value");
		if ((flags & PD_IOC_F_ARG_VALUE) && e->ndesc)
			return fail(why, why_len, t, e, "value with descriptors");
		if ((flags & PD_IOC_F_ARG_VALUE) && _IOC_DIR(e->cmd) != _IOC_NONE &&
		    _IOC_SIZE(e->cmd) > 8)
			return fail(why, why_len, t, e, "value wider than 64 bits");
		for (di = 0; di < e->ndesc; di++) {
			msg = check_desc(e, flags, di, &stateful);
			if (msg)
				return fail(why, why_len, t, e, msg);
		}
		if (stateful != !!(flags & PD_IOC_F_USES_STATE))
			return fail(why, why_len, t, e,
				    "USES_STATE does not match the descriptors");
		if ((flags & PD_IOC_F_LEARN) && !t->learn)
			return fail(why, why_len, t, e,
				    "LEARN in a table without a learn hook");
		for (j = 0; j < t->count; j++) {
			const struct pd_ioc_entry *o = &t->entries[j];

			if (j == i)
				continue;
			if (pd_ioc_entry_matches(o, e->cmd) ||
			    ((flags & PD_IOC_F_VARSIZE) &&
			     !((o->flags | t->flags) & PD_IOC_F_VARSIZE) &&
			     pd_ioc_entry_matches(e, o->cmd)))
				return fail(why, why_len, t, e,
					    "command matched by two entries");
		}
	}
	return 0;
}
