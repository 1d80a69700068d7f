package checksig

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// vector is one entry of tests/vectors.json, written by tests/make_vectors.py
// with Python's hashlib: an independent implementation of every algorithm.
type vector struct {
	Name      string `json:"name"`
	Algorithm string `json:"algorithm"`
	Hex       string `json:"hex"`
	// The data is Repeat times Pattern (UTF-8).
	Pattern string `json:"pattern"`
	Repeat  int    `json:"repeat"`
}

func (v vector) data() []byte { return []byte(strings.Repeat(v.Pattern, v.Repeat)) }

func loadVectors(t *testing.T) []vector {
	t.Helper()
	b, err := os.ReadFile("../tests/vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Vectors []vector `json:"vectors"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Vectors) == 0 {
		t.Fatal("no vectors")
	}
	return doc.Vectors
}
