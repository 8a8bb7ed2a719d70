/*
 * Masking of shared values (DESIGN.md §6): what a consumer granted an item
 * "masked" sees instead of the value.
 *
 *   id_card    330106********1234   first 6 and last 4 characters
 *   phone      138****5678          first 3 and last 4
 *   name       张*  / 欧阳** / J***   first character
 *   address    浙江省杭州市西湖区****   up to the district (区, 县, 旗), else the first 6 characters
 *   bank_card  ************1234     last 4
 *   full, none ***                  nothing of the value: an item without a mask
 *                                   kind cannot be shown partly, so masking hides it all
 *
 * Counting is by UTF-8 character, never by byte, so a masked Chinese value
 * stays valid UTF-8. Values too short to keep anything are masked whole.
 */
#ifndef YW_SEC_MASK_H
#define YW_SEC_MASK_H

#include <stdbool.h>

#include "core/buf.h"

/* True when kind is one of the mask kinds above. */
bool yw_mask_kind_known(const char *kind);

/* Appends the masked form of value (UTF-8 text) to out. Unknown kinds mask whole. */
void yw_mask(const char *kind, const char *value, yw_buf *out);

#endif
