// Pending offers, from the "offers" events. A new offer rings and raises a desktop notification.
import * as api from '../api/backend';
import type { OfferView } from '../api/types';
import { alertNewOffer } from '../lib/alert';

export const offers = $state({ items: [] as OfferView[] });

const seen = new Set<string>();

export function setOffers(items: OfferView[]): void {
  for (const o of items) {
    if (!seen.has(o.id)) {
      seen.add(o.id);
      alertNewOffer(o.customer_name);
    }
  }
  offers.items = items;
}

export async function loadOffers(): Promise<void> {
  offers.items = await api.offers.list();
  for (const o of offers.items) seen.add(o.id);
}

export const acceptOffer = (id: string) => api.offers.accept(id);
export const declineOffer = (id: string) => api.offers.decline(id);
