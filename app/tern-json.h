/* tern-json.h: just enough JSON output for tern-cli --json.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Appends @value as a JSON string (or null when NULL). */
void tern_json_append_string (GString    *out,
                              const char *value);
/* Appends "key": to an object being written. */
void tern_json_append_key    (GString    *out,
                              const char *key);

G_END_DECLS
