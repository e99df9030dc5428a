package nl

// Diff is diff, for the tests of package nl_test.
var Diff = diff
