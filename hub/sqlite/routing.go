package sqlite

import (
	"context"
	"strings"

	"github.com/parleyhq/parley/hub/store"
	"github.com/parleyhq/parley/hub/store/sqldb"
	"github.com/parleyhq/parley/wire"
)

// ConvRoutings implements store.RoutingStore.
func (d *DB) ConvRoutings(ctx context.Context, ids []wire.ConversationID) (map[wire.ConversationID]store.ConvRouting, error) {
	out := make(map[wire.ConversationID]store.ConvRouting, len(ids))
	// In pages, well under SQLite's limit on bound parameters.
	for len(ids) > 0 {
		page := ids[:min(len(ids), 500)]
		ids = ids[len(page):]
		args := make([]any, len(page))
		for i, id := range page {
			args[i] = id
		}
		rows, err := d.db.QueryContext(ctx, `SELECT `+sqldb.ConvRoutingCols+`
			FROM conv_routing WHERE conv IN (?`+strings.Repeat(", ?", len(page)-1)+`)`, args...)
		if _, err := collect(rows, err, func(row sqldb.Row) (struct{}, error) {
			id, r, err := sqldb.ScanConvRouting(row)
			if err == nil {
				out[id] = r
			}
			return struct{}{}, err
		}); err != nil {
			return nil, err
		}
	}
	return out, nil
}
