package audit

// MetaRow is one row of a PCAM meta CSV (",coord_y,coord_x,tumor_patch,center_tumor_patch,wsi"):
// where the patch was cut from which whole-slide image. Row i describes patch i of its split.
type MetaRow struct {
	// CoordY and CoordX locate the patch in the slide.
	CoordY, CoordX int
	// Tumor says whether the patch contains tumour anywhere.
	Tumor bool
	// CenterTumor says whether the centre 32x32 contains tumour; it should equal the label.
	CenterTumor bool
	// WSI names the whole-slide image the patch comes from.
	WSI string
}
