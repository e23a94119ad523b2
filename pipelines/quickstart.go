package pipelines

import _ "embed"

// Quickstart is the built-in default pipeline, used when no pipeline file is given and the working
// directory has no pipelines/quickstart.hcl.
//
//go:embed quickstart.hcl
var Quickstart []byte
