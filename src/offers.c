/* offers.c - the capabilities layers and losses offer (CN_OFFER_* in
 * cnet/layer.h): their names, what a layer offers, and the layer key
 * `offers` that marks a layer in its cfg section (e.g. a [softmax] whose
 * argmax is a cluster id: offers=clusters).
 */
#include <stdio.h>
#include <string.h>

#include "net_internal.h"

/* In bit order: names[i] is the name of 1u << i. */
static const char *const names[] = {"clusters", "code", "probs", "gauss_posterior"};

const char *cn_offer_name(unsigned bit)
{
    for (unsigned i = 0; i < sizeof names / sizeof *names; i++)
        if (bit == 1u << i)
            return names[i];
    return NULL;
}

unsigned cn_layer_offers(const cn_layer *l)
{
    return l->offers | (l->ops ? l->ops->offers : 0u);
}

cn_status cn_offers_read(cn_sec *s, const char *key, unsigned *out, cn_error *err)
{
    const char *text;
    *out = 0;
    if (cn_sec_str(s, key, &text, err))
        return err->code;
    for (const char *p = text; p && *p;) {
        size_t len = strcspn(p, ","), a = 0, b = len;
        while (a < b && (p[a] == ' ' || p[a] == '\t'))
            a++;
        while (b > a && (p[b - 1] == ' ' || p[b - 1] == '\t'))
            b--;
        unsigned bit = 0;
        for (unsigned i = 0; !bit && i < sizeof names / sizeof *names; i++)
            if ((CN_OFFER_MARKS & (1u << i)) && strlen(names[i]) == b - a &&
                !strncmp(names[i], p + a, b - a))
                bit = 1u << i;
        if (!bit) {
            char known[128] = "";
            for (unsigned i = 0; i < sizeof names / sizeof *names; i++)
                if (CN_OFFER_MARKS & (1u << i))
                    snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s",
                             *known ? ", " : "", names[i]);
            return cn_sec_bad(s, key, CN_ERR_CFG, err, "expects a comma list of %s, got '%.*s'",
                              known, (int)(b - a), p + a);
        }
        *out |= bit;
        p += len + (p[len] == ',');
    }
    return CN_OK;
}
