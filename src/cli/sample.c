/* sample.c - `cnet sample CFG --out FILE.png [--n N]`: images decoded by
 * a trained VAE from latent codes drawn from its prior N(0, I), or for a
 * 2-D latent a traversal of the latent plane (cn_vis_samples,
 * docs/visualize.md). --seed picks the draws (and, as everywhere, the
 * cfg's seed; the weights come from the checkpoint). */
#include "cli.h"

int cli_sample(const cli_opts *o)
{
    cn_error err = {0};
    cn_cfg *cfg = NULL;
    cn_net *net = NULL;
    char weights[1024], dir[1024];
    int rc = 0;
    if (cli_load_run(o, &cfg, dir, sizeof dir, &err) || cn_net_create(cfg, &net, &err))
        goto fail;
    if (cli_load_weights(o, dir, net, weights, sizeof weights, &err) ||
        cn_vis_samples(net, (int)o->n, cn_net_seed(net), o->out, &err))
        goto fail;
    printf("wrote %s (%ld samples decoded with weights %s)\n", o->out, o->n, weights);
    goto done;
fail:
    rc = cli_fail(&err);
done:
    cn_net_free(net);
    cn_cfg_free(cfg);
    return rc;
}
