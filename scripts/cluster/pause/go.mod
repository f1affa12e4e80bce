module galion.local/cluster/pause

go 1.24
