package evidence

// Backend returns the blob store the vault writes to.
func (v *Vault) Backend() Backend { return v.backend }
