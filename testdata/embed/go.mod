module example.com/embed

go 1.26.8

require github.com/tcwire/tcwire v0.0.0

// The test replaces this with the checkout's absolute path.
replace github.com/tcwire/tcwire => ../..
