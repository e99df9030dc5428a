package tc_test

import (
	"github.com/tcwire/tcwire/tc"
	"github.com/tcwire/tcwire/tc/tcschema"
)

// The golden tests explain a mismatch with tcschema.Schema, which they
// cannot import (it imports package tc): hand it in before they run.
func init() { tc.ExplainSchema = tcschema.Schema }
