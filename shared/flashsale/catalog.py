"""The default catalog: products 1..1000 with names, categories, prices and stock deep enough
that minutes of random orders (quantity 1-5) never sell out. Deterministic for a given seed.

    python -m flashsale.catalog                 # seed the products table (PRODUCTS_TABLE)
    python -m flashsale.catalog --count 50 --stock 10 --dry-run
"""

from __future__ import annotations

import argparse
import random
from decimal import Decimal

from flashsale.domain.model import Product

DEFAULT_COUNT = 1000
DEFAULT_STOCK = 1_000_000

CATEGORIES = {
    "electronics": ["Headphones", "Charger", "Speaker", "Keyboard", "Mouse", "Monitor", "Webcam"],
    "books": ["Novel", "Cookbook", "Atlas", "Biography", "Comic", "Guide", "Anthology"],
    "clothing": ["Jacket", "Sneakers", "Scarf", "Hoodie", "T-Shirt", "Jeans", "Cap"],
    "home": ["Lamp", "Mug", "Pillow", "Blanket", "Vase", "Kettle", "Clock"],
    "sports": ["Yoga Mat", "Football", "Racket", "Bottle", "Dumbbell", "Helmet", "Backpack"],
    "toys": ["Puzzle", "Robot", "Kite", "Board Game", "Plush Bear", "Drone", "Blocks"],
    "beauty": ["Shampoo", "Perfume", "Lotion", "Brush", "Lip Balm", "Soap", "Face Mask"],
    "grocery": ["Coffee", "Tea", "Chocolate", "Olive Oil", "Honey", "Granola", "Pasta"],
}
ADJECTIVES = [
    "Classic", "Deluxe", "Eco", "Compact", "Premium", "Vintage", "Smart", "Ultra",
    "Handmade", "Organic", "Wireless", "Rugged", "Mini", "Pro", "Cozy", "Bright",
]  # fmt: skip
PRICE_RANGE = {
    "electronics": (15, 400), "books": (5, 60), "clothing": (10, 150), "home": (8, 120),
    "sports": (6, 200), "toys": (5, 90), "beauty": (3, 80), "grocery": (2, 40),
}  # fmt: skip


def generate(
    count: int = DEFAULT_COUNT, stock: int = DEFAULT_STOCK, seed: int = 42
) -> list[Product]:
    rng = random.Random(seed)
    categories = sorted(CATEGORIES)
    products = []
    for product_id in range(1, count + 1):
        category = categories[(product_id - 1) % len(categories)]
        noun = rng.choice(CATEGORIES[category])
        adjective = rng.choice(ADJECTIVES)
        low, high = PRICE_RANGE[category]
        price = (Decimal(rng.randint(low * 100, high * 100)) / 100).quantize(Decimal("0.01"))
        products.append(
            Product(
                product_id=product_id,
                name=f"{adjective} {noun} {product_id}",
                price=price,
                stock=stock,
                category=category,
                description=f"{adjective} {noun.lower()} from our {category} range.",
            )
        )
    return products


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m flashsale.catalog", description=__doc__)
    parser.add_argument("--count", type=int, default=DEFAULT_COUNT)
    parser.add_argument("--stock", type=int, default=DEFAULT_STOCK)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--dry-run", action="store_true", help="print, do not write")
    args = parser.parse_args(argv)
    products = generate(args.count, args.stock, args.seed)
    if args.dry_run:
        for product in products[:10]:
            print(product)
        print(f"... {len(products)} products")
        return 0
    from flashsale import bootstrap

    store = bootstrap.product_store()
    written = store.seed(products)
    print(f"seeded {written} products into {store.table}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
