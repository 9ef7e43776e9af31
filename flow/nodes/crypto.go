package nodes

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"net/http"
	"strings"

	"github.com/flowline/flowline/codegen/golang"
	"github.com/flowline/flowline/codegen/js"
	"github.com/flowline/flowline/engine"
	"github.com/flowline/flowline/flow"
)

// Hash digests a value, keyed (an HMAC) or not, and may check a digest
// the request carries against it: signing a payload for an API, checking
// a webhook's signature, deriving a stable id or an ETag.
type Hash struct{}

type hashConfig struct {
	Algorithm string `json:"algorithm"`
	Value     string `json:"value"`
	Key       string `json:"key"`
	Encoding  string `json:"encoding"`
	Expected  string `json:"expected"`
}

func (cfg *hashConfig) spec() HashSpec {
	return HashSpec{Algorithm: cfg.Algorithm, Encoding: cfg.Encoding,
		Keyed: strings.TrimSpace(cfg.Key) != "", Compare: strings.TrimSpace(cfg.Expected) != ""}
}

// PortMismatch is the port crypto.hash takes when the expected digest
// differs.
const PortMismatch = "mismatch"

// hashAlgorithmNames are the digests crypto.hash computes, strongest
// first; md5 and sha1 only for the checksums and old signatures that still
// use them.
var hashAlgorithmNames = []string{"sha256", "sha384", "sha512", "sha1", "md5"}

var hashAlgorithms = map[string]func() hash.Hash{
	"sha256": sha256.New, "sha384": sha512.New384, "sha512": sha512.New, "sha1": sha1.New, "md5": md5.New,
}

// hashEncodings write a digest as text.
var hashEncodings = map[string]func([]byte) string{
	"hex": hex.EncodeToString, "base64": base64.StdEncoding.EncodeToString, "base64url": base64.RawURLEncoding.EncodeToString,
}

// Spec describes crypto.hash.
func (Hash) Spec() flow.Spec {
	return flow.Spec{
		Type:     "crypto.hash",
		Title:    "Hash or sign",
		Category: "Security",
		Summary:  "{algorithm} {value}",
		Description: "Computes a digest of a value: a plain hash, or an HMAC when a key is given (the signature " +
			"schemes of Stripe, GitHub, Slack and most webhook senders). With an expected digest, it compares the two in " +
			"constant time and leaves by mismatch when they differ; when mismatch has no edge, the request is answered 401.",
		Ports: []string{flow.PortOut, PortMismatch, flow.PortError},
		Fields: []flow.Field{
			{Name: "algorithm", Label: "Algorithm", Kind: flow.KindEnum, Required: true, Default: "sha256",
				Options:     hashAlgorithmNames,
				Description: "The hash function. Use sha256 or stronger; md5 and sha1 are for checksums and old signatures only."},
			{Name: "value", Label: "Value", Kind: flow.KindExpr, Required: true, Placeholder: "toJSON(request.body)",
				Description: "An expression giving what to digest: a string as its UTF-8 bytes, any other value as its JSON text. " +
					"A JSON request body is parsed, so its digest is of its JSON text as the flow writes it, not of the bytes sent."},
			{Name: "key", Label: "Key", Kind: flow.KindExpr, Placeholder: "env.WEBHOOK_SECRET",
				Description: "An expression giving the HMAC key, usually a secret variable. Leave empty for a plain hash."},
			{Name: "encoding", Label: "Encoding", Kind: flow.KindEnum, Default: "hex", Options: []string{"hex", "base64", "base64url"},
				Description: "How the digest is written: lower-case hex, base64, or unpadded base64url (as in JWTs)."},
			{Name: "expected", Label: "Expected digest", Kind: flow.KindExpr,
				Placeholder: "trimPrefix(request.headers[\"x-hub-signature-256\"], \"sha256=\")",
				Description: "An expression giving the digest to check against, in the same encoding (hex in any case). " +
					"Leave empty to only compute the digest."},
		},
		Output: "The digest as a string, on out and on mismatch alike.",
		Examples: []flow.Example{
			{Title: "Sign a payload", Config: []byte(`{"algorithm":"sha256","value":"toJSON(request.body)","key":"env.SIGNING_KEY","encoding":"base64"}`)},
			{Title: "Check a webhook", Config: []byte(`{"algorithm":"sha256","value":"toJSON(request.body)","key":"env.WEBHOOK_SECRET",` +
				`"expected":"trimPrefix(request.headers[\"x-hub-signature-256\"] ?? \"\", \"sha256=\")"}`)},
		},
	}
}

// Check validates the algorithm, the encoding and the expressions.
func (Hash) Check(c *flow.Checker, n *flow.Node) {
	var cfg hashConfig
	if !c.Decode(&cfg) {
		return
	}
	report(c, cfg.spec().Check())
	c.Expr("value", cfg.Value)
	for field, src := range map[string]string{"key": cfg.Key, "expected": cfg.Expected} {
		if strings.TrimSpace(src) != "" {
			c.Expr(field, src)
		}
	}
}

// Binding is the node's call, for the JS host.
func (Hash) Binding() engine.Binding { return engine.Bind(NewHash) }

// EmitJS evaluates the value, key and expected digest and digests in the
// host.
func (Hash) EmitJS(w *js.Writer, n *flow.Node) error {
	var cfg hashConfig
	if err := flow.DecodeConfig(n.Config, &cfg); err != nil {
		return err
	}
	i, err := w.Prepare(n.Type, cfg.spec())
	if err != nil {
		return err
	}
	args := hashArgs(cfg, func(field, src string) string { return w.Expr(field, src) }, "null")
	if !cfg.spec().Compare || w.HasEdge(PortMismatch) {
		w.EndCall(i, args...)
		return nil
	}
	w.Line("const [$out, $port] = $.call(%d, %s);", i, strings.Join(args, ", "))
	w.Line("if ($port === %s) {", js.Quote(PortMismatch))
	w.Line("\t$.refuse($out, $port, %d, %s, null);", http.StatusUnauthorized, js.Quote(mismatchMessage))
	w.Line("\treturn;")
	w.Line("}")
	w.End("$out", "$port")
	return nil
}

// EmitGo evaluates the value, key and expected digest in the order the JS
// target does, and digests with the call made at start-up.
func (Hash) EmitGo(w *golang.Writer, n *flow.Node) error {
	var cfg hashConfig
	if err := flow.DecodeConfig(n.Config, &cfg); err != nil {
		return err
	}
	h, err := w.Prepare("hash", cfg.spec())
	if err != nil {
		return err
	}
	var vars []string
	args := hashArgs(cfg, func(field, src string) string {
		v := fmt.Sprintf("a%d", len(vars))
		vars = append(vars, v)
		w.Line("%s, err := x.Eval(%s)", v, w.Expr(src, field))
		w.CheckErr()
		return v
	}, "nil")
	if !cfg.spec().Compare || w.HasEdge(PortMismatch) {
		w.Line("return %s.Call(x, []any{%s})", h, strings.Join(args, ", "))
		return nil
	}
	w.MayRespond()
	w.Line("out, port, err := %s.Call(x, []any{%s})", h, strings.Join(args, ", "))
	w.Line("if err == nil && port == %s {", golang.Quote(PortMismatch))
	w.Line("\tx.Refuse(out, port, %d, %s, nil)", http.StatusUnauthorized, golang.Quote(mismatchMessage))
	w.Line("\treturn nil, \"\", nil")
	w.Line("}")
	w.Line("return out, port, err")
	return nil
}

// mismatchMessage is the error of the 401 a mismatch answers when its port
// has no edge.
const mismatchMessage = "signature mismatch"

// hashArgs are the call's arguments, value, key and expected, in this
// order, as eval renders each expression; absent ones are none.
func hashArgs(cfg hashConfig, eval func(field, src string) string, none string) []string {
	args := []string{eval("value", cfg.Value), none, none}
	if strings.TrimSpace(cfg.Key) != "" {
		args[1] = eval("key", cfg.Key)
	}
	if strings.TrimSpace(cfg.Expected) != "" {
		args[2] = eval("expected", cfg.Expected)
	}
	return args
}

// HashSpec is a crypto.hash node's fixed settings.
type HashSpec struct {
	Algorithm string `json:"algorithm"`
	Encoding  string `json:"encoding,omitempty"` // "" means hex
	Keyed     bool   `json:"keyed,omitempty"`    // an HMAC: the call's second argument is the key
	Compare   bool   `json:"compare,omitempty"`  // the third argument is the expected digest
}

// Check reports what is wrong with the settings, field by field.
func (s HashSpec) Check() map[string]string {
	probs := map[string]string{}
	if hashAlgorithms[s.Algorithm] == nil {
		probs["algorithm"] = fmt.Sprintf("algorithm %q must be one of %s", s.Algorithm, strings.Join(hashAlgorithmNames, ", "))
	}
	if s.Encoding != "" && hashEncodings[s.Encoding] == nil {
		probs["encoding"] = fmt.Sprintf("encoding %q must be one of hex, base64, base64url", s.Encoding)
	}
	return probs
}

// HashCall is a prepared crypto.hash node.
type HashCall struct {
	spec   HashSpec
	hash   func() hash.Hash
	encode func([]byte) string
}

// NewHash prepares a crypto.hash node from its settings.
func NewHash(s HashSpec) (*HashCall, error) {
	if probs := s.Check(); len(probs) > 0 {
		return nil, fmt.Errorf("crypto.hash: %s", engine.JoinProblems(probs))
	}
	if s.Encoding == "" {
		s.Encoding = "hex"
	}
	return &HashCall{spec: s, hash: hashAlgorithms[s.Algorithm], encode: hashEncodings[s.Encoding]}, nil
}

// Call digests args[0], keyed with args[1] when the node has a key, and
// compares the digest with args[2] when it has an expected digest.
func (h *HashCall) Call(_ *engine.Exec, args []any) (any, string, error) {
	data, err := hashBytes("value", engine.Arg(args, 0))
	if err != nil {
		return nil, "", err
	}
	var m hash.Hash
	if h.spec.Keyed {
		key, ok := engine.Arg(args, 1).(string)
		if !ok || key == "" {
			return nil, "", errors.New("key must give a non-empty string, such as a secret variable")
		}
		m = hmac.New(h.hash, []byte(key))
	} else {
		m = h.hash()
	}
	m.Write(data)
	digest := h.encode(m.Sum(nil))
	if !h.spec.Compare {
		return digest, flow.PortOut, nil
	}
	expected, _ := engine.Arg(args, 2).(string) // nil or a non-string never matches
	if h.spec.Encoding == "hex" {
		expected = strings.ToLower(expected)
	}
	if !hmac.Equal([]byte(digest), []byte(expected)) {
		return digest, PortMismatch, nil
	}
	return digest, flow.PortOut, nil
}

// hashBytes is what is digested of v: a string's bytes, else its JSON text.
func hashBytes(field string, v any) ([]byte, error) {
	switch v := v.(type) {
	case string:
		return []byte(v), nil
	case nil:
		return nil, fmt.Errorf("%s gave nil; give the text to digest", field)
	}
	b, err := engine.MarshalJSON(v)
	if err != nil {
		return nil, fmt.Errorf("%s cannot be written as JSON: %w", field, err)
	}
	return b, nil
}

// OutputType is the digest.
func (Hash) OutputType(*flow.Typing, *flow.Node) *flow.Type { return flow.StringType }
