/* augment.h: the training and test transforms of the reference.
 *
 * Each step is torchvision's, on 8-bit images as PIL holds them:
 *   RandomResizedCrop (size, scale, ratio): up to 10 tries of an area
 *     fraction uniform in [scale_min, scale_max] and an aspect ratio w / h
 *     log-uniform in [ratio_min, ratio_max], w = round (sqrt (area * ratio)),
 *     h = round (sqrt (area / ratio)) (round half to even, as Python), kept
 *     when it fits, at a uniform position; otherwise the centre crop of the
 *     whole image clamped to the ratio range. The crop is resized to size x
 *     size with PIL's bilinear filter (a triangle kernel widened by the
 *     downscale factor, so it antialiases) in PIL's own arithmetic: 22-bit
 *     fixed-point weights, a horizontal pass rounded to 8 bits, then a
 *     vertical one.
 *   ColorJitter (brightness, contrast, saturation, hue): factors uniform in
 *     [max (0, 1 - s), 1 + s] (hue: [-hue, hue]), applied in a random order
 *     as torchvision 0.x does. Each is PIL's: brightness blends with black,
 *     contrast with the rounded mean grey level of the image, saturation
 *     with the image's grey version (ITU-R 601-2 luma), hue shifts the H of
 *     8-bit HSV (PIL's RGB <-> HSV conversions, their float and double
 *     steps kept) by round-toward-zero (hue * 255) mod 256. Blends truncate
 *     to 8 bits as PIL's Image.blend does. Every step gives PIL's bytes
 *     exactly: tests/data/test-augment-parity.c checks them against
 *     torchvision (docs/data.md). One-channel images get brightness
 *     and contrast only (saturation and hue do nothing to grey in PIL).
 *   RandomGrayscale (p): three channels only; all three become the luma.
 *   RandomHorizontalFlip (p = 0.5).
 *   ToTensor + Normalize: (v / 255 - mean[c]) / std[c].
 * The test transform resizes the whole image to size x size when its size
 * differs (bilinear as above), then normalises.
 *
 * Determinism: a sample's random choices come from an Rng seeded with
 * augment_sample_seed (seed, epoch, position), a hash, never from a shared
 * sequential generator, so they depend on neither thread timing nor on what
 * was drawn before: a resumed run makes the same choices.
 */
#pragma once

#include <glib.h>

#include "dataset.h"
#include "rng.h"

G_BEGIN_DECLS

typedef struct
{
  int size;                  /* output H = W */
  gboolean random_crop;      /* RandomResizedCrop; FALSE: resize whole image */
  float scale_min, scale_max;  /* crop area fraction: 0.2, 1 */
  float ratio_min, ratio_max;  /* crop w / h: 3/4, 4/3 */
  float brightness, contrast, saturation, hue;  /* 0 turns one off */
  float grayscale_p;         /* RandomGrayscale probability, 3 channels only */
  gboolean grayscale_first;  /* grey before jitter: the reference's ImageNet
                                order; FALSE: jitter then grey (its CIFAR) */
  gboolean flip;             /* RandomHorizontalFlip with p = 0.5 */
  float mean[3], std[3];     /* Normalize, per channel in [0, 1] units */
} AugmentOptions;

/* The reference's CIFAR transform: crop 32, jitter 0.4 x 4, grey 0.2, no
 * flip (commented out in its CIFAR code), CIFAR mean and std. */
void augment_options_init_cifar (AugmentOptions *options);

/* Fashion-MNIST (docs/method.md, "Data presets and augmentation"): crop
 * 28, brightness and contrast 0.4, flip, mean 0.2860, std 0.3530. */
void augment_options_init_fashion_mnist (AugmentOptions *options);

/* The reference's ImageNet transform at the given size: crop, grey 0.2
 * before jitter 0.4 x 4, flip, ImageNet mean 0.485/0.456/0.406 and std
 * 0.229/0.224/0.225. */
void augment_options_init_imagenet (AugmentOptions *options, int size);

/* The preset for a data set: CIFAR-10/100 -> cifar; Fashion-MNIST ->
 * fashion_mnist; other IDX -> fashion_mnist at its size with the data's own
 * mean and std; folders -> imagenet at the data's size, with ImageNet's
 * statistics for RGB and the data's own for grey. */
void augment_options_init_for_dataset (AugmentOptions *options,
                                       const Dataset *data);

/* The random choices for one sample. */
typedef struct
{
  int crop_x, crop_y, crop_w, crop_h;  /* in the source image */
  float brightness, contrast, saturation, hue;  /* identity: 1, 1, 1, 0 */
  int order[4];      /* jitter steps in the order applied: 0 brightness,
                        1 contrast, 2 saturation, 3 hue */
  int n_steps;       /* how many of order[] are used */
  gboolean grayscale;
  gboolean flip;
} AugmentParams;

/* The seed of sample `position` (its place in the epoch's order) of
 * `epoch` under the run's seed. */
guint64 augment_sample_seed (guint64 seed, gint64 epoch, gint64 position);

/* A hash of (seed, domain, a, b) for other streams (the loader's epoch
 * order uses it): distinct domains give unrelated streams. */
guint64 augment_hash (guint64 seed, guint64 domain, gint64 a, gint64 b);

/* Draws every random choice for a (channels, height, width) source. */
void augment_sample (const AugmentOptions *options, int channels, int height,
                     int width, Rng *rng, AugmentParams *params);

/* The crop alone (torchvision's RandomResizedCrop.get_params). */
void augment_sample_crop (const AugmentOptions *options, int height,
                          int width, Rng *rng, int *x, int *y, int *w, int *h);

/* image (C, H, W) bytes -> out (C, size, size) normalised floats. */
void augment_apply (const AugmentOptions *options, const AugmentParams *params,
                    const guint8 *image, int channels, int height, int width,
                    float *out);

/* augment_sample with the sample's own Rng, then augment_apply. */
void augment_train (const AugmentOptions *options, const guint8 *image,
                    int channels, int height, int width, guint64 seed,
                    gint64 epoch, gint64 position, float *out);

/* The training transform of a full-resolution folder set (dataset.h,
 * DATASET_DECODE_FULL): decodes the file at path at its own size (after
 * data_image_probe's checks and pixel limit), draws the sample's choices
 * from the stream of (seed, epoch, position) as augment_train does, for
 * the picture's width and height, and applies them: the random crop of the
 * photograph resized to size x size (PIL's bilinear, as augment_resize),
 * then grey, jitter, flip and normalisation. A JPEG whose crop is much
 * larger than the output is decoded at a reduced scale first
 * (augment_jpeg_scale_divisor; then it is not torchvision's byte for
 * byte). channels is 1 (PIL's luma) or 3. FALSE with an error naming the
 * file when it cannot be read. */
gboolean augment_train_full_resolution (float *out,
                                        const AugmentOptions *options,
                                        const char *path, int channels,
                                        guint64 seed, gint64 epoch,
                                        gint64 position, GError **error);

/* How much smaller augment_train_full_resolution decodes a JPEG whose
 * crop is crop_w x crop_h for an output of size: 1, 2, 4 or 8, the
 * largest that leaves the crop at least 2 * size on both sides. */
int augment_jpeg_scale_divisor (int crop_w, int crop_h, int size);

/* The test transform: image (C, H, W) -> out (C, size, size). */
void augment_test (const AugmentOptions *options, const guint8 *image,
                   int channels, int height, int width, float *out);

/* Building blocks, exposed for tests and for other transforms. All work on
 * (C, H, W) bytes in place unless they say otherwise. */

/* src (C, sh, sw) region (x, y, w, h) -> dst (C, dh, dw), PIL bilinear */
void augment_resize (const guint8 *src, int channels, int sh, int sw, int x,
                     int y, int w, int h, guint8 *dst, int dh, int dw);
void augment_adjust_brightness (guint8 *image, int channels, int n_pixels,
                                float factor);
void augment_adjust_contrast (guint8 *image, int channels, int n_pixels,
                              float factor);
void augment_adjust_saturation (guint8 *image, int channels, int n_pixels,
                                float factor);
void augment_adjust_hue (guint8 *image, int channels, int n_pixels,
                         float factor);
void augment_to_grayscale (guint8 *image, int channels, int n_pixels);
void augment_flip (guint8 *image, int channels, int height, int width);

G_END_DECLS
