// Package audit answers the data questions of a PCAM user before training: is every split the size
// the paper says, how many unique images are there really, are there exact or near duplicates within
// and across splits (leakage), do duplicates carry conflicting labels (possible poisoning), which
// patches are blank, black, saturated, low on tissue or unreadable, do slides (WSIs) leak between
// splits, and do the splits differ in colour (drift).
//
// # Entry points
//
// Run streams every split through a pcam.Reader in chunks, keeps only a small record per patch
// (SHA-1, perceptual hash, label, a few statistics: about 48 bytes, never the pixels) and returns a
// Report. Report marshals to deterministic JSON, WriteMarkdown renders a readable summary,
// WriteMontages draws PNG grids of flagged patches, Report.Failed evaluates fail_on gates and Clean
// turns the report into the index lists of a cleaned dataset view.
//
// # Definitions
//
// Exact duplicate: two patches whose 27,648 raw pixel bytes are identical. Identity is the SHA-1 of
// those bytes in hex, which is also the image id of the Kaggle re-release of PCAM.
//
// Near duplicate: two patches with different SHA-1 whose perceptual hashes are within
// Options.HammingThreshold bits under some flip/rotation and whose pixels, after undoing that
// flip/rotation and a per-channel colour change, differ by at most Options.MaxResidual (see
// "Pixel verification" below). Exact duplicates are never
// reported as near duplicates: near-duplicate search runs over one representative (the first
// occurrence) per distinct image. Near-duplicate groups are the connected components of the
// "within threshold" relation, so a group may chain A~B~C even when A and C are further apart.
//
// Perceptual hash: the patch is converted to luminance (0.299 R + 0.587 G + 0.114 B), box-averaged
// to 32x32, and the DCT-II coefficients (u,v) with u,v < 11 are computed. The low hash holds the
// signs of the 8x8 lowest frequencies (bit u*8+v, the DC bit always 0: 63 informative bits); the
// ring hash holds the signs of the 57 coefficients with 8 <= max(u,v) < 11. Thresholding AC
// coefficients at zero (rather than at their median) makes the hashes invariant to brightness
// offsets and contrast scaling, which covers mild colour jitter, and makes every flip or 90°
// rotation an exact bit operation on a hash: a horizontal flip negates the coefficients with odd v,
// a vertical flip those with odd u, a transpose swaps u and v. Two images are candidates when, for
// some flip/rotation t, variant t of one image's low hash AND variant t of its ring hash are both
// within Options.HammingThreshold bits of the other image's hashes; the reported distance is the
// low-hash distance. The ring hash removes the chance matches of a 63-bit hash among hundreds of
// thousands of images.
//
// Pixel verification: hashes see layout, so different images with the same simple layout (one
// nucleus on plain background) collide. Candidates are therefore verified on pixels: Run re-reads
// only the candidate patches (in batches, 12 KB of thumbnail each), box-averages them to 32x32 per
// channel, undoes the flip/rotation t, fits a per-channel gain and offset (colour jitter) and
// accepts the pair when the relative residual sqrt(1-R²) is at most Options.MaxResidual (default
// 0.25; jittered copies stay below 0.15, look-alikes measured above 0.45). The canonical hash reported per image (the
// minimum over the 8 variants of the low hash) is identical for every flip/rotation of a patch;
// matching does not rely on canonical hashes being equal because the arg-min of the
// canonicalisation is unstable under noise.
//
// Index: candidate pairs are found with multi-index hashing on the low hash. The 64-bit hash is cut
// into m = 4 bands of 16 bits; by the pigeonhole principle two hashes within distance k agree
// within floor(k/m) bits in at least one band, so probing every band value within that radius (for
// each of the 8 variants) finds every pair within k without comparing all pairs. For k <= 3 this is
// the classic "k+1 bands, one must match exactly" scheme with fewer, longer bands; up to k = 7 each
// band is probed with 17 keys.
//
// Patch quality (per pixel, 8-bit channels; a patch gets at most one class, first match wins):
//   - black: at least 95% of pixels have max(R,G,B) <= 25.
//   - blank: at least 99.5% of pixels have min(R,G,B) >= 220 (white or near-white background;
//     a patch with even one small nucleus is not blank but low_tissue, since it may carry a label).
//   - saturated: at least 50% of pixels have a channel clipped at 0 or 255.
//   - low_tissue: less than 10% of pixels are tissue, where a tissue pixel has max(R,G,B) >= 30,
//     min(R,G,B) < 220 and HSV saturation (max-min)/max >= 0.08 (stained tissue is coloured,
//     glass background is grey-white).
//
// Patches flagged black or blank, and patches whose 32x32 luminance image has a standard deviation
// below 2 grey levels ("low information"), take no part in near-duplicate search: flat images all
// hash alike. Identical blank patches are still exact duplicates of each other, and such groups are
// marked blank in the report.
//
// Corrupt: a patch whose Read fails, or whose label is not 0 or 1. A failing chunk read is retried
// patch by patch so that only the unreadable patches are reported. Corrupt patches are reported, not
// fatal, up to Options.MaxCorrupt per split; beyond that Run stops with an error naming the source,
// because then the file is broken rather than a few patches.
//
// # Clean policy
//
// Clean turns a report into the patch indices of a cleaned view, dropping the classes of
// Options.Exclude:
//   - train loses later copies within train (exact_duplicates), later near duplicates within train
//     (near_duplicates) and every train member of a group with conflicting labels
//     (label_conflicts). Evaluation splits keep their own duplicates.
//   - leaks between train and an evaluation split (cross_split_duplicates,
//     cross_split_near_duplicates, wsi_overlap) follow Options.LeakPolicy. With "drop_train" (the
//     default) valid and test stay intact and train loses every patch that leaks into them: all its
//     copies of an image that also occurs in valid or test, all its images near-identical to one
//     there, all its patches of a slide that also occurs there. A leak between valid and test alone
//     is reported but not removed. With "drop_eval" train stays whole and the later copy goes: a
//     valid or test patch whose image (or a near-identical one, or its slide) occurs in an earlier
//     split (train, valid, test order).
//   - blank, black, saturated, low_tissue and corrupt patches leave every split alike when their
//     class is excluded. Identical blank or black patches (flat images are identical by nature)
//     are not duplicates, leaks or label conflicts, neither in the findings nor in the clean view:
//     their quality class alone decides, the same way in every split.
//
// Report.Warnings (also at the top of the Markdown summary) says when the view leaves a split
// empty or removes more than half of it, with the classes responsible.
package audit
