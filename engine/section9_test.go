package engine

import "os"

// readSection9 reads the workflow document of product.md §9, as written
// there, which several tests use; it is kept once, in
// engine/testdata/section9.json.
func readSection9(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		panic("read the §9 example: " + err.Error())
	}
	return string(b)
}
