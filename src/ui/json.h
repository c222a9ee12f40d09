/*
 * json.h - reading fields of the node's JSON answers, for the kiosk.
 *
 * The kiosk shows whatever fields an answer has: a node of another version
 * or a scripted stand-in may leave one out, and the screens then show ""
 * rather than check for NULL at every use.  Any thread (pure).
 */
#ifndef LC_UI_JSON_H
#define LC_UI_JSON_H

#include <jansson.h>

/* o[key] as a string (borrowed from o); "" when o is not an object, or
 * the field is missing or not a string. */
static inline const char *jstr(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

#endif
