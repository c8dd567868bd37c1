// SPDX-License-Identifier: Apache-2.0
//
// helm-render: renders a Helm chart offline the way `helm template` does, for the tests of
// deploy/helm/agentlens (no helm binary on these machines). Go text/template + sprig from
// Debian's packages (golang-go, golang-github-masterminds-sprig-dev, golang-gopkg-yaml.v2-dev),
// built in GOPATH mode:
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o helm-render ./spec/release/helm/render
//
//	helm-render --chart DIR [-f VALUES.yaml]... [--set-string KEY=VALUE]...
//	            [--release NAME] [--namespace NS] [--values-out FILE] [--json-out FILE]
//	            [--notes-out FILE] [--strict]
//
// Prints the manifests (with "# Source:" comments) to stdout, like `helm template`. --json-out
// writes every object as one JSON array (each document parsed as YAML: invalid YAML fails);
// --values-out writes the merged values as JSON (for values.schema.json). Errors go to stderr
// with exit status 1; a `fail` or `required` prints "Error: execution error at (FILE): MESSAGE".
// --strict makes a reference to a missing value an error, as `helm lint --strict` does.
//
// Supported, as Helm 3 does it: .Values (values.yaml deep-merged with each -f file, null deletes
// a key; numbers become float64 as in Helm), .Chart (Name, Version, AppVersion, Description,
// Type, APIVersion), .Release (Name, Namespace, Service, IsInstall, IsUpgrade, Revision),
// .Capabilities (KubeVersion.Version/Major/Minor/GitVersion, APIVersions.Has, HelmVersion),
// .Template (Name, BasePath); sprig without env/expandenv; include, tpl, required, toYaml,
// fromYaml, toJson, fromJson, lookup (always an empty map: no cluster, as `helm template`).
// Not supported: .Files, subcharts, hooks ordering, toToml.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig"
	yaml "gopkg.in/yaml.v2"
)

type chartMeta struct {
	APIVersion  string
	Name        string
	Version     string
	AppVersion  string
	Description string
	Type        string
}

type kubeVersion struct{ Version, Major, Minor, GitVersion string }

func (k kubeVersion) String() string { return k.Version }

type apiVersions []string

// Has reports whether the API version (group/version or group/version/Kind) is known.
func (a apiVersions) Has(v string) bool {
	for _, x := range a {
		if x == v {
			return true
		}
	}
	return false
}

type capabilities struct {
	KubeVersion kubeVersion
	APIVersions apiVersions
	HelmVersion map[string]string
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func die(format string, a ...interface{}) {
	fmt.Fprintf(os.Stderr, "Error: "+format+"\n", a...)
	os.Exit(1)
}

// toJSONCompatible converts YAML-decoded data (map[interface{}]interface{}) to what Helm's
// sigs.k8s.io/yaml gives: map[string]interface{}, []interface{}, float64 numbers.
func toJSONCompatible(v interface{}) (interface{}, error) {
	b, err := json.Marshal(normalize(v))
	if err != nil {
		return nil, err
	}
	var out interface{}
	err = json.Unmarshal(b, &out)
	return out, err
}

func normalize(v interface{}) interface{} {
	switch t := v.(type) {
	case map[interface{}]interface{}:
		m := make(map[string]interface{}, len(t))
		for k, x := range t {
			m[fmt.Sprint(k)] = normalize(x)
		}
		return m
	case map[string]interface{}:
		m := make(map[string]interface{}, len(t))
		for k, x := range t {
			m[k] = normalize(x)
		}
		return m
	case []interface{}:
		l := make([]interface{}, len(t))
		for i, x := range t {
			l[i] = normalize(x)
		}
		return l
	}
	return v
}

func readYAMLMap(path string) (map[string]interface{}, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var raw interface{}
	if err := yaml.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if raw == nil {
		return map[string]interface{}{}, nil
	}
	v, err := toJSONCompatible(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	m, ok := v.(map[string]interface{})
	if !ok {
		return nil, fmt.Errorf("%s: not a mapping", path)
	}
	return m, nil
}

// merge deep-merges src over dst as Helm coalesces user values over the chart's: maps merge,
// anything else replaces, null deletes the key.
func merge(dst, src map[string]interface{}) map[string]interface{} {
	for k, sv := range src {
		if sv == nil {
			delete(dst, k)
			continue
		}
		sm, sIsMap := sv.(map[string]interface{})
		dm, dIsMap := dst[k].(map[string]interface{})
		if sIsMap && dIsMap {
			dst[k] = merge(dm, sm)
		} else {
			dst[k] = sv
		}
	}
	return dst
}

// setString applies --set-string a.b.c=value.
func setString(values map[string]interface{}, kv string) {
	i := strings.IndexByte(kv, '=')
	if i < 0 {
		die("--set-string %q: expected KEY=VALUE", kv)
	}
	keys := strings.Split(kv[:i], ".")
	m := values
	for _, k := range keys[:len(keys)-1] {
		next, ok := m[k].(map[string]interface{})
		if !ok {
			next = map[string]interface{}{}
			m[k] = next
		}
		m = next
	}
	m[keys[len(keys)-1]] = kv[i+1:]
}

func toYAML(v interface{}) string {
	b, err := yaml.Marshal(v)
	if err != nil {
		return ""
	}
	return strings.TrimSuffix(string(b), "\n")
}

func fromYAML(s string) map[string]interface{} {
	var raw interface{}
	if err := yaml.Unmarshal([]byte(s), &raw); err != nil {
		return map[string]interface{}{"Error": err.Error()}
	}
	v, err := toJSONCompatible(raw)
	if err != nil {
		return map[string]interface{}{"Error": err.Error()}
	}
	m, _ := v.(map[string]interface{})
	if m == nil {
		m = map[string]interface{}{}
	}
	return m
}

func toJSON(v interface{}) string {
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(b)
}

func fromJSON(s string) map[string]interface{} {
	m := map[string]interface{}{}
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		m["Error"] = err.Error()
	}
	return m
}

var (
	execLocRe = regexp.MustCompile(`^template: ([^:\s]+(?::\d+(?::\d+)?)?): executing `)
	execMsgRe = regexp.MustCompile(`error calling (?:fail|required): `)
)

// helmError reformats a fail/required error the way Helm prints it: the location of the
// template being rendered (not of an include inside it) and the message alone.
func helmError(err error) string {
	msg := err.Error()
	loc := execLocRe.FindStringSubmatch(msg)
	idx := execMsgRe.FindAllStringIndex(msg, -1)
	if loc != nil && idx != nil {
		return fmt.Sprintf("execution error at (%s): %s", loc[1], msg[idx[len(idx)-1][1]:])
	}
	return msg
}

func main() {
	var files, sets multiFlag
	chartDir, release, namespace, valuesOut, jsonOut, notesOut := "", "agentlens", "default", "", "", ""
	missingKey := "missingkey=zero"
	args := os.Args[1:]
	for i := 0; i < len(args); i++ {
		a := args[i]
		next := func() string {
			if i+1 >= len(args) {
				die("%s needs a value", a)
			}
			i++
			return args[i]
		}
		switch a {
		case "--chart":
			chartDir = next()
		case "-f", "--values":
			files.Set(next())
		case "--set-string":
			sets.Set(next())
		case "--release":
			release = next()
		case "--namespace", "-n":
			namespace = next()
		case "--values-out":
			valuesOut = next()
		case "--json-out":
			jsonOut = next()
		case "--notes-out":
			notesOut = next()
		case "--strict":
			// as `helm lint --strict`: a reference to a missing key is an error
			missingKey = "missingkey=error"
		default:
			die("unknown argument %q (see the comment at the top of render/main.go)", a)
		}
	}
	if chartDir == "" {
		die("--chart DIR is required")
	}

	metaRaw, err := readYAMLMap(filepath.Join(chartDir, "Chart.yaml"))
	if err != nil {
		die("%v", err)
	}
	str := func(k string) string {
		if v, ok := metaRaw[k]; ok && v != nil {
			return fmt.Sprint(v)
		}
		return ""
	}
	meta := chartMeta{APIVersion: str("apiVersion"), Name: str("name"), Version: str("version"),
		AppVersion: str("appVersion"), Description: str("description"), Type: str("type")}
	if meta.APIVersion != "v2" || meta.Name == "" || meta.Version == "" {
		die("Chart.yaml: apiVersion v2, name and version are required")
	}
	if _, ok := metaRaw["dependencies"]; ok {
		die("Chart.yaml: dependencies (subcharts) are not supported by this renderer")
	}

	values, err := readYAMLMap(filepath.Join(chartDir, "values.yaml"))
	if err != nil {
		die("%v", err)
	}
	for _, f := range files {
		user, err := readYAMLMap(f)
		if err != nil {
			die("%v", err)
		}
		values = merge(values, user)
	}
	for _, s := range sets {
		setString(values, s)
	}
	if valuesOut != "" {
		b, _ := json.MarshalIndent(values, "", "  ")
		if err := os.WriteFile(valuesOut, append(b, '\n'), 0o644); err != nil {
			die("%v", err)
		}
	}

	// Every file under templates/ joins one template set (named "<chart>/templates/<path>"), so
	// the defines of _helpers.tpl are visible to all of them.
	var names []string
	sources := map[string]string{}
	tdir := filepath.Join(chartDir, "templates")
	err = filepath.Walk(tdir, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(chartDir, p)
		name := meta.Name + "/" + filepath.ToSlash(rel)
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		names = append(names, name)
		sources[name] = string(b)
		return nil
	})
	if err != nil {
		die("%v", err)
	}
	sort.Strings(names)

	root := template.New("chart")
	funcs := sprig.TxtFuncMap()
	delete(funcs, "env")
	delete(funcs, "expandenv")
	includedNames := map[string]int{}
	funcs["toYaml"] = toYAML
	funcs["fromYaml"] = fromYAML
	funcs["toJson"] = toJSON
	funcs["fromJson"] = fromJSON
	funcs["required"] = func(msg string, v interface{}) (interface{}, error) {
		if v == nil {
			return v, errors.New(msg)
		}
		if s, ok := v.(string); ok && s == "" {
			return v, errors.New(msg)
		}
		return v, nil
	}
	funcs["lookup"] = func(apiVersion, kind, namespace, name string) (map[string]interface{}, error) {
		return map[string]interface{}{}, nil
	}
	funcs["include"] = func(name string, data interface{}) (string, error) {
		if includedNames[name] > 1000 {
			return "", fmt.Errorf("rendering template has a nested reference name: %s", name)
		}
		includedNames[name]++
		defer func() { includedNames[name]-- }()
		var buf bytes.Buffer
		if err := root.ExecuteTemplate(&buf, name, data); err != nil {
			return "", err
		}
		return buf.String(), nil
	}
	funcs["tpl"] = func(text string, data interface{}) (string, error) {
		t, err := root.Clone()
		if err != nil {
			return "", err
		}
		t, err = t.New("tpl").Parse(text)
		if err != nil {
			return "", err
		}
		var buf bytes.Buffer
		if err := t.Execute(&buf, data); err != nil {
			return "", err
		}
		return strings.ReplaceAll(buf.String(), "<no value>", ""), nil
	}
	root.Funcs(funcs).Option(missingKey)
	for _, n := range names {
		if _, err := root.New(n).Parse(sources[n]); err != nil {
			die("parse error in %v", err)
		}
	}

	caps := capabilities{
		KubeVersion: kubeVersion{Version: "v1.30.0", Major: "1", Minor: "30", GitVersion: "v1.30.0"},
		APIVersions: apiVersions{"v1", "apps/v1", "batch/v1", "policy/v1", "networking.k8s.io/v1",
			"rbac.authorization.k8s.io/v1", "discovery.k8s.io/v1", "autoscaling/v2"},
		HelmVersion: map[string]string{"Version": "v3.16.0"},
	}
	top := map[string]interface{}{
		"Values": values,
		"Chart":  meta,
		"Release": map[string]interface{}{"Name": release, "Namespace": namespace,
			"Service": "Helm", "IsInstall": true, "IsUpgrade": false, "Revision": 1},
		"Capabilities": caps,
	}

	var out bytes.Buffer
	var objects []interface{}
	for _, n := range names {
		base := filepath.Base(n)
		if strings.HasPrefix(base, "_") {
			continue
		}
		isNotes := strings.HasSuffix(n, "/templates/NOTES.txt")
		if !isNotes && !strings.HasSuffix(n, ".yaml") && !strings.HasSuffix(n, ".yml") &&
			!strings.HasSuffix(n, ".tpl") {
			continue
		}
		top["Template"] = map[string]interface{}{"Name": n, "BasePath": meta.Name + "/templates"}
		var buf bytes.Buffer
		if err := root.ExecuteTemplate(&buf, n, top); err != nil {
			die("%s", helmError(err))
		}
		text := strings.ReplaceAll(buf.String(), "<no value>", "")
		if isNotes {
			if notesOut != "" {
				if err := os.WriteFile(notesOut, []byte(text), 0o644); err != nil {
					die("%v", err)
				}
			}
			continue
		}
		for _, doc := range splitDocs(text) {
			var raw interface{}
			if err := yaml.Unmarshal([]byte(doc), &raw); err != nil {
				die("YAML parse error on %s: %v\n%s", n, err, doc)
			}
			if raw == nil {
				continue
			}
			obj, err := toJSONCompatible(raw)
			if err != nil {
				die("%s: %v", n, err)
			}
			objects = append(objects, obj)
			fmt.Fprintf(&out, "---\n# Source: %s\n%s\n", n, strings.Trim(doc, "\n "))
		}
	}
	os.Stdout.Write(out.Bytes())
	if jsonOut != "" {
		if objects == nil {
			objects = []interface{}{}
		}
		b, _ := json.MarshalIndent(objects, "", "  ")
		if err := os.WriteFile(jsonOut, append(b, '\n'), 0o644); err != nil {
			die("%v", err)
		}
	}
}

var docSep = regexp.MustCompile(`(?m)^---[ \t]*$`)

// splitDocs splits a rendered file into YAML documents, dropping empty ones.
func splitDocs(text string) []string {
	var docs []string
	for _, d := range docSep.Split(text, -1) {
		if strings.TrimSpace(stripComments(d)) != "" {
			docs = append(docs, d)
		}
	}
	return docs
}

func stripComments(s string) string {
	var b strings.Builder
	for _, line := range strings.Split(s, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			b.WriteString(line)
			b.WriteByte('\n')
		}
	}
	return b.String()
}
