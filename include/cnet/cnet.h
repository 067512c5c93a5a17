/* cnet.h - umbrella header of cnet, a deep learning framework for
 * representation learning in C.
 *
 * A network is a cfg file; the library parses it, builds the network with
 * every buffer allocated once, streams batches from disk and trains it:
 *
 *     cn_error err;
 *     cn_cfg *cfg = NULL;
 *     cn_net *net = NULL;
 *     cn_data *data = NULL;
 *     if (cn_cfg_parse_file("cfg/ae.cfg", &cfg, &err) ||
 *         cn_net_create(cfg, &net, &err) ||
 *         cn_data_open(cfg, cn_net_seed(net), &data, &err)) {
 *         fprintf(stderr, "%s\n", err.msg);
 *         ...
 *     }
 *     cn_train_opts opts = cn_train_defaults();
 *     cn_train(net, data, &opts, &err);
 *
 * Every fallible call returns cn_status and fills a cn_error; nothing in the
 * library prints to stdout or exits.
 */
#ifndef CNET_CNET_H
#define CNET_CNET_H

/* The version, written into what cnet saves (a run's run.cfg). */
#define CN_VERSION "0.16.0"

#include "error.h"
#include "tensor.h"
#include "cfg.h"
#include "layer.h"
#include "loss.h"
#include "optim.h"
#include "data.h"
#include "net.h"
#include "pool.h"
#include "visualize.h"

#endif
