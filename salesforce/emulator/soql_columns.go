package emulator

import "strings"

// Column metadata of a query: GET /query?q=…&columns=true answers which columns the query
// returns instead of its rows. No public document describes it; the Salesforce CLI's
// `sf data query` asks for it (plugin-data retrieveColumns) and reads columnMetadata[].columnName,
// displayName, aggregate and joinColumns (a parent relationship's or a child subquery's columns;
// aggregate marks a child subquery). Observed shape, kept small.

// soqlColumns is the columns=true answer for q.
func soqlColumns(src soqlSource, q string) (map[string]any, error) {
	_, p, err := compileQuery(src, q, "", soqlOptions{})
	if err != nil {
		return nil, err
	}
	idSelected := false
	for _, n := range p.out {
		idSelected = idSelected || n.field != nil && n.field.Name == "Id"
	}
	return map[string]any{
		"columnMetadata": soqlColumnList(p.out),
		"entityName":     p.obj.Name,
		"groupBy":        false,
		"idSelected":     idSelected,
	}, nil
}

func soqlColumnList(nodes []*soqlOutNode) []map[string]any {
	out := make([]map[string]any, 0, len(nodes))
	for _, n := range nodes {
		col := map[string]any{"columnName": n.key, "displayName": n.key, "aggregate": false, "custom": strings.HasSuffix(n.key, "__c"),
			"joinColumns": []map[string]any{}}
		switch {
		case n.rel != nil:
			col["joinColumns"] = soqlColumnList(n.nested)
		case n.child != nil:
			col["aggregate"] = true
			col["joinColumns"] = soqlColumnList(n.child.plan.out)
		}
		out = append(out, col)
	}
	return out
}
