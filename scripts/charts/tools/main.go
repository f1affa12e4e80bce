// Command charttools has two sub-commands used by the chart validation:
//
//	charttools yaml2json < manifests.yaml > manifests.json
//	    reads a multi-document YAML stream and prints a JSON array of the non-empty documents.
//	charttools crd2schema OUTDIR CRD.yaml...
//	    writes, for every version of every CRD, a strict JSON schema at
//	    OUTDIR/<group>/<kind>_<version>.json (kubeconform's CRD schema layout): every object
//	    schema with properties refuses unknown fields unless the CRD preserves them, like
//	    kubeconform's openapi2jsonschema with DENY_ROOT_ADDITIONAL_PROPERTIES.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"sigs.k8s.io/yaml"
)

func main() {
	if len(os.Args) < 2 {
		fail("usage: charttools yaml2json | crd2schema OUTDIR CRD.yaml...")
	}
	var err error
	switch os.Args[1] {
	case "yaml2json":
		err = yaml2json(os.Stdin, os.Stdout)
	case "crd2schema":
		if len(os.Args) < 4 {
			fail("usage: charttools crd2schema OUTDIR CRD.yaml...")
		}
		err = crd2schema(os.Args[2], os.Args[3:])
	default:
		fail("unknown command " + os.Args[1])
	}
	if err != nil {
		fail(err.Error())
	}
}

func fail(msg string) {
	fmt.Fprintln(os.Stderr, "charttools:", msg)
	os.Exit(1)
}

// splitDocs splits a YAML stream on document separators.
func splitDocs(r io.Reader) ([][]byte, error) {
	var docs [][]byte
	var cur bytes.Buffer
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1024*1024), 64*1024*1024)
	for sc.Scan() {
		line := sc.Text()
		if line == "---" || strings.HasPrefix(line, "--- ") {
			docs = append(docs, append([]byte(nil), cur.Bytes()...))
			cur.Reset()
			continue
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
	}
	docs = append(docs, cur.Bytes())
	return docs, sc.Err()
}

func yaml2json(r io.Reader, w io.Writer) error {
	docs, err := splitDocs(r)
	if err != nil {
		return err
	}
	out := []json.RawMessage{}
	for i, d := range docs {
		j, err := yaml.YAMLToJSON(d)
		if err != nil {
			return fmt.Errorf("document %d: %w", i, err)
		}
		if string(j) == "null" {
			continue
		}
		out = append(out, j)
	}
	enc := json.NewEncoder(w)
	return enc.Encode(out)
}

type crd struct {
	Kind string `json:"kind"`
	Spec struct {
		Group string `json:"group"`
		Names struct {
			Kind string `json:"kind"`
		} `json:"names"`
		Versions []struct {
			Name   string `json:"name"`
			Schema struct {
				OpenAPIV3Schema map[string]any `json:"openAPIV3Schema"`
			} `json:"schema"`
		} `json:"versions"`
	} `json:"spec"`
}

func crd2schema(outDir string, files []string) error {
	n := 0
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		docs, err := splitDocs(bytes.NewReader(raw))
		if err != nil {
			return err
		}
		for _, d := range docs {
			var c crd
			if err := yaml.Unmarshal(d, &c); err != nil {
				return fmt.Errorf("%s: %w", f, err)
			}
			if c.Kind != "CustomResourceDefinition" {
				continue
			}
			for _, v := range c.Spec.Versions {
				s := v.Schema.OpenAPIV3Schema
				if s == nil {
					continue
				}
				strict(s)
				props, _ := s["properties"].(map[string]any)
				if props != nil {
					props["apiVersion"] = map[string]any{"type": "string", "enum": []any{c.Spec.Group + "/" + v.Name}}
					props["kind"] = map[string]any{"type": "string", "enum": []any{c.Spec.Names.Kind}}
				}
				s["$schema"] = "http://json-schema.org/draft-07/schema#"
				dir := filepath.Join(outDir, c.Spec.Group)
				if err := os.MkdirAll(dir, 0o755); err != nil {
					return err
				}
				b, err := json.MarshalIndent(s, "", "  ")
				if err != nil {
					return err
				}
				name := filepath.Join(dir, strings.ToLower(c.Spec.Names.Kind)+"_"+v.Name+".json")
				if err := os.WriteFile(name, b, 0o644); err != nil {
					return err
				}
				n++
			}
		}
	}
	if n == 0 {
		return fmt.Errorf("no CRD versions found in %v", files)
	}
	return nil
}

// strict rewrites an OpenAPI v3 structural schema into JSON schema that kubeconform applies:
// int-or-string becomes a oneOf, and objects with known properties refuse unknown ones.
func strict(s map[string]any) {
	if s["x-kubernetes-int-or-string"] == true {
		delete(s, "type")
		s["oneOf"] = []any{map[string]any{"type": "string"}, map[string]any{"type": "integer"}}
	}
	if props, ok := s["properties"].(map[string]any); ok {
		for _, p := range props {
			if m, ok := p.(map[string]any); ok {
				strict(m)
			}
		}
		if _, has := s["additionalProperties"]; !has && s["x-kubernetes-preserve-unknown-fields"] != true {
			s["additionalProperties"] = false
		}
	}
	if items, ok := s["items"].(map[string]any); ok {
		strict(items)
	}
	if ap, ok := s["additionalProperties"].(map[string]any); ok {
		strict(ap)
	}
	for _, k := range []string{"allOf", "anyOf", "oneOf"} {
		if list, ok := s[k].([]any); ok {
			for _, it := range list {
				if m, ok := it.(map[string]any); ok {
					strict(m)
				}
			}
		}
	}
	if s["nullable"] == true {
		if t, ok := s["type"].(string); ok {
			s["type"] = []any{t, "null"}
		}
	}
}
