"""Pure kernel contracts: domain error families and the integration event base. Stdlib + msgspec only."""
