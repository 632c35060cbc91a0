package postgres

import (
	"context"

	"github.com/parleyhq/parley/hub/store"
	"github.com/parleyhq/parley/hub/store/sqldb"
	"github.com/parleyhq/parley/wire"
)

// ConvRoutings implements store.RoutingStore.
func (d *DB) ConvRoutings(ctx context.Context, ids []wire.ConversationID) (map[wire.ConversationID]store.ConvRouting, error) {
	out := make(map[wire.ConversationID]store.ConvRouting, len(ids))
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = string(id)
	}
	rows, err := d.pool.Query(ctx, `SELECT `+sqldb.ConvRoutingCols+`
		FROM conv_routing WHERE conv = ANY($1)`, keys)
	_, err = collect(rows, err, func(row sqldb.Row) (struct{}, error) {
		id, r, err := sqldb.ScanConvRouting(row)
		if err == nil {
			out[id] = r
		}
		return struct{}{}, err
	})
	return out, err
}
