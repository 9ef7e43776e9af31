package server

import (
	"io/fs"
	"net/http"
	"os"
	"path"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/flowline/flowline/web"
)

// notBuilt is served when the designer was not built into this binary.
const notBuilt = `<!doctype html><html><head><meta charset="utf-8"><title>Flowline</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 4em auto">
<h1>Flowline</h1>
<p>The API is up at <code>/api/v1</code>, but the designer was not built into this binary.
Run <code>make run</code> from the repository to build and serve it.</p></body></html>`

// web serves the designer's files, falling back to index.html for the
// app's own routes, and a JSON 404 under /api.
func (s *Server) web() gin.HandlerFunc {
	var files fs.FS = web.Dist()
	if s.cfg.WebDir != "" {
		files = os.DirFS(s.cfg.WebDir)
	}
	fileServer := http.FileServer(http.FS(files))
	return func(c *gin.Context) {
		p := c.Request.URL.Path
		if strings.HasPrefix(p, "/api/") || p == "/api" {
			fail(c, errStatus(http.StatusNotFound, "no API endpoint "+c.Request.Method+" "+p))
			return
		}
		if c.Request.Method != http.MethodGet && c.Request.Method != http.MethodHead {
			fail(c, errStatus(http.StatusMethodNotAllowed, "method not allowed"))
			return
		}
		name := strings.TrimPrefix(path.Clean(p), "/")
		if name != "" {
			if st, err := fs.Stat(files, name); err == nil && !st.IsDir() {
				if strings.HasPrefix(name, "assets/") {
					c.Header("Cache-Control", "public, max-age=31536000, immutable")
				}
				fileServer.ServeHTTP(c.Writer, c.Request)
				return
			}
		}
		index, err := fs.ReadFile(files, "index.html")
		if err != nil {
			c.Data(http.StatusOK, "text/html; charset=utf-8", []byte(notBuilt))
			return
		}
		c.Header("Cache-Control", "no-cache")
		c.Data(http.StatusOK, "text/html; charset=utf-8", index)
	}
}
