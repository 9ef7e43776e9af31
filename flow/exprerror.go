package flow

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/expr-lang/expr/file"
)

// exprProblem is a compile error of src in words, located, with a hint
// where a common mistake is likely: expr-lang's own message carries a
// snippet with a caret that only reads right in a fixed-width block.
func exprProblem(src string, err error) Problem {
	var fe *file.Error
	if !errors.As(err, &fe) {
		return Problem{Message: err.Error(), Severity: SeverityError}
	}
	msg := fe.Message
	length := 1
	switch {
	case strings.HasPrefix(msg, "unknown name "):
		name := strings.TrimPrefix(msg, "unknown name ")
		length = utf8.RuneCountInString(name)
		msg = fmt.Sprintf("%q is not a name expressions know (they start from request, nodes, env or trace)", name)
		msg += textHint(src)
	case unexpected.MatchString(msg):
		m := unexpected.FindStringSubmatch(msg)
		if m[1] == "EOF" {
			msg = "the expression ends too early: something is missing at the end"
		} else {
			length = max(1, utf8.RuneCountInString(m[2]))
			msg = fmt.Sprintf("unexpected %s here", strings.ToLower(m[1])+" "+fmt.Sprintf("%q", m[2]))
			msg += textHint(src)
		}
	}
	if fe.Line > 1 {
		msg += fmt.Sprintf(" (line %d, column %d)", fe.Line, fe.Column+1)
	} else {
		msg += fmt.Sprintf(" (column %d)", fe.Column+1)
	}
	from := min(fe.From, utf8.RuneCountInString(src))
	return Problem{Message: msg, Severity: SeverityError, At: &Range{From: from, To: from + length}}
}

var unexpected = regexp.MustCompile(`^unexpected token (\w+)(?:\("?(.*?)"?\))?`)

// looksLikeText matches sources that are words, not an expression.
var looksLikeText = regexp.MustCompile(`^[\p{L}][\p{L}\p{N}' ,.!?-]*$`)

// textHint suggests quotes when src reads as plain text.
func textHint(src string) string {
	s := strings.TrimSpace(src)
	if !looksLikeText.MatchString(s) || strings.ContainsAny(s, `"'`+"`") {
		return ""
	}
	return fmt.Sprintf(". To write text, put it in quotes: %q", s)
}
