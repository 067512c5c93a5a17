/* visualize.h - pictures of a network (docs/visualize.md): the filters of
 * its first parameterised layer, reconstructions of held-out inputs, and the
 * learning curves of a run. Pictures are PNG files (stb_image_write); for
 * the curves the library writes a gnuplot script, which the command line
 * (`cnet visualize`) runs: the library starts no programs.
 */
#ifndef CNET_VISUALIZE_H
#define CNET_VISUALIZE_H

#include "data.h"
#include "net.h"

/* Smallest side, in pixels, of one tile in a picture grid: small images
 * (conv kernels, tiny inputs) are scaled up by an integer factor. */
#define CN_VIS_MIN_TILE 16
/* Most filters drawn in filters.png (the first ones). */
#define CN_VIS_MAX_FILTERS 256
/* Samples per band of reconstructions.png (inputs above, outputs below). */
#define CN_VIS_RECON_COLS 16
/* Size of curves.png in pixels. */
#define CN_VIS_CURVES_WIDTH 800
#define CN_VIS_CURVES_HEIGHT 900

/* The first layer with parameters, or NULL when none has any. */
cn_layer *cn_vis_first_param_layer(const cn_net *net);

/* Draw the weights W of the first parameterised layer as a grid of tiles
 * (ceil(sqrt(N)) columns, 1-pixel separators, at most CN_VIS_MAX_FILTERS):
 * a dense layer's rows reshaped to its input's C x H x W, a conv layer's
 * (F, C, k, k) kernels. Each filter is the unit-norm input W_l / ||W_l||
 * that activates unit l most, stretched to [0, 255] by its own min and max.
 * @return CN_ERR_SHAPE when there is no such layer or its W cannot be
 *         drawn as images, CN_ERR_IO when path cannot be written. */
cn_status cn_vis_filters(const cn_net *net, const char *path, cn_error *err);
/* Pixels between the panels of cn_vis_filters_side. */
#define CN_VIS_PANEL_GAP 8
/* The filters of n networks side by side in one picture: each net's as
 * cn_vis_filters draws them (a panel), left to right in the order given,
 * CN_VIS_PANEL_GAP pixels apart, top-aligned; the picture is as tall as the
 * tallest panel (e.g. one denoising autoencoder trained at each corruption
 * level). Errors as cn_vis_filters, for the first net that has them. */
cn_status cn_vis_filters_side(const cn_net *const *nets, int n, const char *path,
                              cn_error *err);

/* The first loss whose target is the network input, or NULL. */
const cn_loss *cn_vis_recon_loss(const cn_net *net);

/* Forward the first n samples of ds (eval mode, n clipped to ds->n) and draw
 * them in bands of CN_VIS_RECON_COLS: inputs in one row, the output of the
 * reconstruction loss's layer reshaped to the input's shape below each.
 * @return CN_ERR_CFG when the net has no loss with target=input. */
cn_status cn_vis_reconstructions(cn_net *net, const cn_dataset *ds, int n, const char *path,
                                 cn_error *err);

/* Decode prior samples through a VAE: the layers after the [sample] layer
 * that a kl_gauss loss is attached to, fed z ~ N(0, I) drawn from an RNG
 * seeded with `seed`, give n images (the output of the first loss with
 * target=input, in the input's shape), drawn ceil(sqrt(n)) to a row on a
 * [0, 1] scale (widened to the values' range if they leave it). A 2-D
 * latent gives a traversal instead: side x side tiles, side = ceil(sqrt(n)),
 * z_1 from -3 to 3 left to right and z_2 from 3 to -3 top to bottom.
 * @return CN_ERR_CFG without a kl_gauss loss or a loss with target=input,
 *         CN_ERR_SHAPE when that loss's layer reads a layer before the
 *         sample layer other than through it, CN_ERR_IO when path cannot be
 *         written. */
cn_status cn_vis_samples(cn_net *net, int n, uint64_t seed, const char *path, cn_error *err);

/* Write the gnuplot script gp_path that plots, per epoch from a run's
 * log.csv, every column that matters into png_name (CN_VIS_CURVES_WIDTH x
 * CN_VIS_CURVES_HEIGHT), one panel each: the losses (train_loss, each loss
 * term, valid_loss), the validation metrics (valid_accuracy, ...) and the
 * learning rate; a column without a value in any epoch is left out. The data are inline,
 * so the script depends on no other file; png_name is relative to the
 * folder gnuplot runs in (`cnet visualize` runs it in the script's).
 * @return CN_ERR_FORMAT for a log without 'epoch' and 'train_loss' columns
 *         or without epochs, CN_ERR_IO when log_csv cannot be read or
 *         gp_path written; on error no script is left at gp_path. */
cn_status cn_vis_curves_script(const char *log_csv, const char *gp_path, const char *png_name,
                               cn_error *err);

/* Write the gnuplot script gp_path (src/vis/plot.c) that draws the points
 * of csv into png_name (900 x 650): csv holds a header of three names (a
 * series, then the x and y axes), then lines `series,x,y` with finite
 * numbers x and y (blank lines skipped; at most 32 series and 65536
 * points). Each series is one line with points, sorted by x, titled by its
 * name, in the order the series first appear; an axis is on a log2 scale
 * when its values are all positive and span a decade or more. png_name is relative
 * to the folder gnuplot runs in.
 * @return CN_ERR_FORMAT naming csv:line for a bad header or line, or when
 *         there are no points; CN_ERR_IO when csv cannot be read or gp_path
 *         written (then no script is left there). */
cn_status cn_vis_points_script(const char *csv, const char *gp_path, const char *png_name,
                               cn_error *err);

#endif
