package server

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/flowline/flowline/codegen/build"
	"github.com/flowline/flowline/deploy"
	"github.com/flowline/flowline/flow"
	"github.com/flowline/flowline/store"
)

// apiError is an error with the status and details the API answers with.
type apiError struct {
	Status  int
	Message string
	Details any
	Extra   gin.H
}

func (e *apiError) Error() string { return e.Message }

func errStatus(status int, msg string) error { return &apiError{Status: status, Message: msg} }

// fail answers err as JSON, mapping known errors to their status in this
// one place.
func fail(c *gin.Context, err error) {
	status, body := errorBody(err)
	if status >= 500 {
		logFailure(c, err, body)
	}
	c.AbortWithStatusJSON(status, body)
}

// logFailure logs a server-side failure with the id its answer shows, so
// that an operator can find what a user saw.
func logFailure(c *gin.Context, err error, body gin.H) {
	if log, ok := c.Get(logKey); ok {
		log.(*slog.Logger).Error("request failed", "method", c.Request.Method, "path", c.Request.URL.Path,
			"error_id", body["error_id"], "error", err.Error())
	}
}

func errorBody(err error) (int, gin.H) {
	var ae *apiError
	var de *flow.DocumentError
	var ve *flow.ValidationError
	var mbe *http.MaxBytesError
	var rce *deploy.RouteConflictError
	switch {
	case errors.As(err, &ae):
		body := gin.H{"error": ae.Message, "details": orEmpty(ae.Details)}
		for k, v := range ae.Extra {
			body[k] = v
		}
		return ae.Status, body
	case errors.As(err, &de):
		return http.StatusBadRequest, gin.H{"error": de.Error(), "details": de.Problems}
	case errors.As(err, &rce):
		return http.StatusConflict, gin.H{"error": rce.Error(), "details": []any{}, "deployment": rce.Deployment, "flow": rce.Flow}
	case errors.As(err, &ve):
		return http.StatusUnprocessableEntity, gin.H{"error": "the flow is not valid", "details": ve.Problems}
	case errors.Is(err, build.ErrUnavailable):
		return http.StatusUnprocessableEntity, gin.H{"error": err.Error(), "details": []any{}}
	case errors.As(err, &mbe):
		return http.StatusRequestEntityTooLarge, gin.H{"error": "request body too large", "details": []any{}}
	case errors.Is(err, deploy.ErrUnknownTarget):
		return http.StatusBadRequest, gin.H{"error": err.Error(), "details": []any{}}
	case errors.Is(err, store.ErrNotFound), errors.Is(err, deploy.ErrNotFound):
		return http.StatusNotFound, gin.H{"error": err.Error(), "details": []any{}}
	case errors.Is(err, store.ErrStale):
		return http.StatusConflict, gin.H{"error": err.Error(), "details": []any{}}
	case errors.Is(err, store.ErrConflict):
		return http.StatusConflict, gin.H{"error": err.Error(), "details": []any{}}
	case errors.Is(err, store.ErrInvalid):
		return http.StatusBadRequest, gin.H{"error": err.Error(), "details": []any{}}
	}
	// An unexpected failure's text can name files, addresses or queries:
	// it goes to the log, and the answer carries only an id to find it by.
	id := newSecret(6)
	return http.StatusInternalServerError, gin.H{"error": "internal error; the server's log has the details under error_id " + id,
		"error_id": id, "details": []any{}}
}

func orEmpty(v any) any {
	if v == nil {
		return []any{}
	}
	return v
}
