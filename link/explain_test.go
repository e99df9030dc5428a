package link_test

import (
	"github.com/tcwire/tcwire/link"
	"github.com/tcwire/tcwire/link/linkschema"
)

// The golden tests explain a mismatch with linkschema.Schema, which they
// cannot import (it imports package link): hand it in before they run.
func init() { link.ExplainSchema = linkschema.Schema }
