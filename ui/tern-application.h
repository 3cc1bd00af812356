/* tern-application.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "tern-context.h"

G_BEGIN_DECLS

#define TERN_TYPE_APPLICATION (tern_application_get_type ())
G_DECLARE_FINAL_TYPE (TernApplication, tern_application, TERN, APPLICATION, AdwApplication)

TernApplication *tern_application_new         (void);
TernContext     *tern_application_get_context (TernApplication *self);
void             tern_ui_register_resources   (void);

G_END_DECLS
