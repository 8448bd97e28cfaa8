/**
 * The TLS server name an HBONE client sends to say whose certificate the
 * destination node agent should present: one agent serves every workload of
 * its node on one port, so the name carries the destination identity.
 * `spiffe://cluster.local/ns/shop/sa/cart` <-> `cart.shop.sa.cluster.local`
 * (service accounts and namespaces are DNS labels, so it is a valid hostname).
 */
export function identityToSni(spiffeId: string): string | undefined {
  const m = /^spiffe:\/\/([^/]+)\/ns\/([^/]+)\/sa\/([^/]+)$/.exec(spiffeId);
  return m ? `${m[3]}.${m[2]}.sa.${m[1]}` : undefined;
}

export function sniToIdentity(sni: string): string | undefined {
  const m = /^([a-z0-9-]+)\.([a-z0-9-]+)\.sa\.(.+)$/.exec(sni);
  return m ? `spiffe://${m[3]}/ns/${m[2]}/sa/${m[1]}` : undefined;
}
