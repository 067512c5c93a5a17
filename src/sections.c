/* sections.c - the special sections of a cfg; every other section is a
 * layer or a loss type.
 *
 * The special sections (CN_SPECIAL_SECTIONS in src/internal.h) are read by
 * their owners: [net] by src/build.c, [data] by data/, [optim] by optim/.
 */
#include <string.h>

#include "internal.h"

#define NAME(kind, s) #s,
static const char *const special[] = {CN_SPECIAL_SECTIONS(NAME) NULL};

const char *cn_section_name(cn_section k)
{
    return k >= 0 && k < CN_SECTION_COUNT ? special[k] : NULL;
}

int cn_section_find(const char *type)
{
    for (int i = 0; type && i < CN_SECTION_COUNT; i++)
        if (!strcmp(special[i], type))
            return i;
    return -1;
}
