/*
 * model_groups.c - group chats for the kiosk (model_groups.h): every
 * function is one command through the model's backend, so the screens
 * never see JSON they did not ask for and the node's rules stay the
 * node's.
 */
#include "ui/model_groups.h"

#include <stdio.h>
#include <string.h>


static const char *jstr(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

/* Copy at most max bytes of s, cut at a character boundary. */
static void cut_copy(char *out, size_t max, const char *s)
{
	size_t n = strlen(s);
	if (n > max) {
		n = max;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	memcpy(out, s, n);
	out[n] = '\0';
}

static void last_of(struct model *m, struct model_group_row *row)
{
	char err[256];
	json_t *a = json_pack("{s:s,s:s,s:i}", "op", "history", "group", row->id, "limit", 1);
	json_t *h = a ? model_call(m, CTL_CMD_GROUP, a, err, sizeof(err)) : NULL;
	json_decref(a);
	json_t *last = json_is_array(h) ? json_array_get(h, json_array_size(h) - 1) : NULL;
	if (last) {
		snprintf(row->last_from, sizeof(row->last_from), "%s", jstr(last, "from"));
		cut_copy(row->last_text, MODEL_GROUP_LAST_MAX, jstr(last, "text"));
		row->last_time_ms = json_integer_value(json_object_get(last, "time_ms"));
	}
	json_decref(h);
}

size_t model_group_rows(struct model *m, struct model_group_row *out, size_t max,
			char *err, size_t errlen)
{
	json_t *l = model_call(m, CTL_CMD_GROUPS, NULL, err, errlen);
	size_t n = 0;
	for (size_t i = 0; json_is_array(l) && i < json_array_size(l) && n < max; i++) {
		json_t *g = json_array_get(l, i);
		struct model_group_row *r = &out[n++];
		memset(r, 0, sizeof(*r));
		snprintf(r->id, sizeof(r->id), "%s", jstr(g, "group"));
		cut_copy(r->title, sizeof(r->title) - 1, jstr(g, "title"));
		snprintf(r->admin, sizeof(r->admin), "%s", jstr(g, "admin"));
		r->admin_is_me = json_is_true(json_object_get(g, "admin_is_me"));
		r->members = (int)json_array_size(json_object_get(g, "members"));
		snprintf(r->state, sizeof(r->state), "%s", jstr(g, "state"));
		last_of(m, r);
	}
	json_decref(l);
	return n;
}

json_t *model_group_history(struct model *m, const char *gid, char *err, size_t errlen)
{
	json_t *a = json_pack("{s:s,s:s,s:i}", "op", "history", "group", gid, "limit",
			      MODEL_HISTORY_LIMIT);
	json_t *h = a ? model_call(m, CTL_CMD_GROUP, a, err, errlen) : NULL;
	json_decref(a);
	if (h && !json_is_array(h)) {
		json_decref(h);
		snprintf(err, errlen, "the node's answer is not a history");
		return NULL;
	}
	return h;
}

bool model_group_create(struct model *m, const char *title, const char *const *names,
			size_t n, char gid[static 33], char *err, size_t errlen)
{
	gid[0] = '\0';
	json_t *list = json_array();
	for (size_t i = 0; list && i < n; i++)
		json_array_append_new(list, json_string(names[i]));
	json_t *a = json_pack("{s:s,s:s,s:o}", "op", "create", "title", title, "names", list);
	json_t *g = a ? model_call(m, CTL_CMD_GROUP, a, err, errlen) : NULL;
	json_decref(a);
	if (g)
		snprintf(gid, 33, "%s", jstr(g, "group"));
	json_decref(g);
	return gid[0] != '\0';
}

bool model_group_do(struct model *m, const char *op, const char *gid, const char *name,
		    char *err, size_t errlen)
{
	json_t *a = json_pack("{s:s,s:s}", "op", op, "group", gid);
	if (a && name)
		json_object_set_new(a, strcmp(op, "send") == 0 ? "text" : "name",
				    json_string(name));
	json_t *r = a ? model_call(m, CTL_CMD_GROUP, a, err, errlen) : NULL;
	json_decref(a);
	bool ok = r != NULL;
	json_decref(r);
	return ok;
}

uint32_t model_sender_colour(const char *name, bool dark)
{
	/* Twelve hues, dark tones for a light bubble and light ones for a
	 * dark bubble; a name has the same hue in both. */
	static const uint32_t light_bg[] = { 0xc62828, 0xad1457, 0x6a1b9a, 0x283593,
					     0x0277bd, 0x00695c, 0x2e7d32, 0x9e6a00,
					     0xd84315, 0x4e342e, 0x37474f, 0x5d4037 };
	static const uint32_t dark_bg[] = { 0xef9a9a, 0xf48fb1, 0xce93d8, 0x9fa8da,
					    0x81d4fa, 0x80cbc4, 0xa5d6a7, 0xffe082,
					    0xffab91, 0xbcaaa4, 0xb0bec5, 0xd7ccc8 };
	uint32_t h = 2166136261u;   /* FNV-1a */
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		h = (h ^ *p) * 16777619u;
	size_t i = h % (sizeof(light_bg) / sizeof(light_bg[0]));
	return dark ? dark_bg[i] : light_bg[i];
}

void model_group_delivery(json_t *msg, char *out, size_t n)
{
	out[0] = '\0';
	if (strcmp(jstr(msg, "direction"), "out") != 0)
		return;
	json_int_t got = json_integer_value(json_object_get(msg, "delivered"));
	json_int_t of = json_integer_value(json_object_get(msg, "of"));
	json_t *held = json_object_get(msg, "held"), *waiting = json_object_get(msg, "waiting");
	size_t at = (size_t)snprintf(out, n, "delivered to %lld of %lld", (long long)got,
				     (long long)of);
	for (size_t i = 0; i < json_array_size(waiting) && at < n; i++) {
		const char *w = json_string_value(json_array_get(waiting, i));
		bool is_held = false;
		for (size_t k = 0; k < json_array_size(held); k++)
			is_held |= strcmp(json_string_value(json_array_get(held, k)), w) == 0;
		at += (size_t)snprintf(out + at, n - at, "%s%s%s", i ? ", " : "; waiting for ",
				       w, is_held ? " (held: key changed)" : "");
	}
}
