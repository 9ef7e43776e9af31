package flow

// Category is a group of node types in the palette.
type Category struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Color       string `json:"color"` // the canvas's accent for its nodes, a CSS colour
}

// Categories are the palette's groups, in the order it shows them. Every
// node type names one of them (a test checks it).
var Categories = []Category{
	{Name: "Trigger", Description: "What starts a run: the HTTP request of the endpoint.", Color: "#4f6bed"},
	{Name: "Transform", Description: "Compute new values from the request and earlier nodes.", Color: "#22a06b"},
	{Name: "Branch", Description: "Choose the path a run takes.", Color: "#e0a526"},
	{Name: "Call", Description: "Reach systems outside the flow: HTTP APIs and databases.", Color: "#8e5bd9"},
	{Name: "Security", Description: "Hashes, signatures and tokens.", Color: "#3a9bb0"},
	{Name: "Respond", Description: "Answer the request.", Color: "#2b6fb3"},
	{Name: "Debug", Description: "See what a run does.", Color: "#7a869a"},
}

// categoryRank is the position of the category named name in Categories;
// unknown names sort last.
func categoryRank(name string) int {
	for i, c := range Categories {
		if c.Name == name {
			return i
		}
	}
	return len(Categories)
}
