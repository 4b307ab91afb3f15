#!/usr/bin/env python3
"""Write the sample project's tables: the outputs of four prediction models and a
campaign list, for about 2,000 customers of an outdoor, home and coffee retailer.

usage: python3 samples/generate.py        (from the repository root)

Standard library only, seeded: every run writes byte-identical files (written with
Python 3.11; random's algorithms for these calls have not changed since 3.6).

    samples/churn.csv            transactional-churn, one row per customer, with profile
                                 columns (region, zip code, e-mail, preferred channel)
    samples/subscriptions.csv    subscription-churn for the coffee-club subscribers,
                                 IsChurn written as 1/0
    samples/clv.csv              customer-lifetime-value, active customers only
    samples/recommendations.csv  product-recommendation, 3 to 5 rows per customer
    samples/campaigns.csv        no model: customers already in a marketing campaign

A scoring job writes rows in no particular order, so each table is shuffled. A few cells
are empty on purpose, as they are in real model output.
"""
import datetime
import os
import random

SEED = 20240630
CUSTOMERS = 2000
AS_OF = datetime.date(2024, 6, 30)
HERE = os.path.dirname(os.path.abspath(__file__))

FIRST_NAMES = [
    "Anna", "Ben", "Chloe", "David", "Elif", "Femi", "Grace", "Hugo", "Ines", "Jonas",
    "Kai", "Lena", "Mateo", "Nora", "Omar", "Priya", "Quinn", "Rosa", "Sven", "Tara",
    "Umar", "Vera", "Wei", "Ximena", "Yusuf", "Zoe",
]
LAST_NAMES = [
    "Adams", "Berg", "Costa", "Dubois", "Evans", "Fischer", "Garcia", "Hansen", "Ito",
    "Jensen", "Khan", "Larsen", "Meyer", "Nowak", "Okafor", "Petrov", "Rossi", "Silva",
    "Tanaka", "Vogel", "Weber", "Young",
]
MAIL_DOMAINS = [
    ("gmail.com", 34), ("outlook.com", 18), ("yahoo.com", 10), ("icloud.com", 8),
    ("web.de", 6), ("proton.me", 4), ("northwind-traders.com", 5), ("contoso.com", 5),
    ("fabrikam.net", 4), ("adventure-works.com", 6),
]
REGIONS = [("North", 24), ("South", 22), ("East", 18), ("West", 26), ("Central", 10)]
CHANNELS = [("email", 55), ("sms", 20), ("phone", 9), ("mail", 6), ("", 10)]
FACTORS = [
    ("DaysSinceLastPurchase", 30), ("TransactionCount", 18), ("SupportTickets", 14),
    ("AverageBasket", 12), ("DiscountUsage", 10), ("DeliveryDelays", 9), ("TenureMonths", 7),
]
COUNTRIES = [
    ("US", 30), ("GB", 14), ("DE", 13), ("FR", 9), ("NL", 7), ("AT", 4), ("CH", 4),
    ("CA", 8), ("ES", 6), ("SE", 5),
]
# (plan, list price per month, weight); some subscribers pay a discounted price instead
PLANS = [("Basic", "9.99", 35), ("Standard", "19.99", 35), ("Premium", "34.99", 20),
         ("Family", "49.99", 10)]
DISCOUNTED = {"9.99": "7.99", "19.99": "15.99", "34.99": "27.99", "49.99": "39.99"}
PROMO_CODES = [("SUMMER24", 8), ("summer24", 4), ("Summer24", 2), ("WELCOME10", 6),
               ("FRIEND-5", 3), ("", 77)]
CATEGORIES = {
    "Outdoor/Tents": [
        "Trailblazer 2P Tent", "Ridge 3P Tent", "Summit 1P Bivy", "Family Dome 6P",
        "Ultralight Tarp", "Tent Footprint", "Camp Mat", "Sleeping Bag -5C",
        "Headlamp 400", "Camp Stove"],
    "Outdoor/Footwear": [
        "Trail Runner GTX", "Alpine Hiking Boot", "Camp Sandal", "Approach Shoe",
        "Winter Trek Boot", "Merino Hiking Socks", "Gaiters", "Insoles Pro",
        "Kids Hiking Boot", "Waterproofing Spray"],
    "Sports/Cycling": [
        "Gravel Helmet", "Bike Light Set", "Saddle Bag 6L", "Cycling Gloves", "Mini Pump",
        "Bike Lock", "Cycling Jersey", "Bottle Cage", "Chain Oil", "Bike Computer"],
    "Home/Bedding": [
        "Linen Duvet Cover", "Wool Throw", "Down Pillow", "Cotton Sheet Set",
        "Weighted Blanket", "Mattress Topper", "Silk Pillowcase", "Bamboo Sheet Set",
        "Hot Water Bottle", "Quilt King"],
    "Home/Caf\u00e9": [
        "Espresso Beans 1kg", "Espresso Machine Pro", "Milk Frother", "Pour-Over Kettle",
        "Decaf Espresso Beans 500g", "Burr Grinder", "Travel Mug", "Cold Brew Jar",
        "Espresso Cups Set", "Filter Papers 100"],
    "Tech/Audio": [
        "Noise-Cancelling Headphones", "Bluetooth Speaker", "Sport Earbuds",
        "Radio Alarm Clock", "Turntable", "Soundbar", "Portable Charger", "Smart Speaker",
        "Hi-Fi Cable", "Kids Headphones"],
}
CAMPAIGNS = [
    # (name, channel, first start, last start, end date or None while it runs)
    ("spring-winback-2024", "email", "2024-03-04", "2024-03-15", "2024-04-30"),
    ("vip-loyalty-2024", "mail", "2024-01-08", "2024-06-20", None),
    ("summer-sale-2024", "email", "2024-06-10", "2024-06-14", "2024-07-15"),
    ("coffee-club-upsell", "sms", "2024-05-20", "2024-06-28", None),
    ("service-recovery", "phone", "2024-04-01", "2024-06-25", None),
]


def weighted(rng, pairs):
    """One value out of (value, weight) pairs."""
    values = [pair[0] for pair in pairs]
    weights = [pair[-1] for pair in pairs]
    return rng.choices(values, weights=weights)[0]


def iso(day):
    return day.isoformat()


def write_csv(name, header, rows, rng):
    rows = list(rows)
    rng.shuffle(rows)
    with open(os.path.join(HERE, name), "w", encoding="utf-8", newline="") as f:
        f.write(",".join(header) + "\n")
        for row in rows:
            f.write(",".join(csv_field(cell) for cell in row) + "\n")


def csv_field(cell):
    if any(ch in cell for ch in ',"\r\n'):
        return '"' + cell.replace('"', '""') + '"'
    return cell


def make_customers(rng):
    """Profile and behaviour of each customer; the models' scores derive from these."""
    numbers = sorted(rng.sample(range(1, 6000), CUSTOMERS))
    customers = []
    for number in numbers:
        risk = rng.betavariate(2, 4)
        tenure = min(120, int(rng.expovariate(1 / 30)))
        idle_days = min(700, int(rng.expovariate(1 / (15 + 220 * risk ** 2))))
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        customers.append({
            "id": "C%06d" % number,
            "risk": risk,
            "tenure": tenure,
            "last_purchase": AS_OF - datetime.timedelta(days=idle_days),
            "name": (first, last),
            "region": weighted(rng, REGIONS),
        })
    return customers


def email_for(rng, first, last):
    roll = rng.random()
    if roll < 0.04:
        return ""
    local = rng.choice(["%s.%s", "%s%s", "%s_%s"]) % (first, last)
    if rng.random() < 0.4:
        local += str(rng.randint(1, 99))
    address = "%s@%s" % (local, weighted(rng, MAIL_DOMAINS))
    if roll < 0.055:
        return address.replace("@", ".", 1)  # a typo the shop never validated
    if rng.random() < 0.7:
        address = address.lower()
    elif rng.random() < 0.3:
        address = address.upper()
    return address


def zip_code(rng):
    roll = rng.random()
    if roll < 0.02:
        return ""
    code = "%05d" % rng.randint(1000, 99950)
    if code.startswith("0") and rng.random() < 0.4:
        return code.lstrip("0")  # a spreadsheet once read it as a number
    return code


def churn_rows(rng, customers):
    for c in customers:
        score = "%.4f" % c["risk"]
        if rng.random() < 0.01:
            score, is_churn = "", ""
        else:
            is_churn = "true" if float(score) >= 0.5 else "false"
        last_purchase = "" if rng.random() < 0.015 else iso(c["last_purchase"])
        first, last = c["name"]
        yield [c["id"], score, is_churn, weighted(rng, FACTORS), c["region"],
               zip_code(rng), last_purchase, email_for(rng, first, last),
               weighted(rng, CHANNELS)]


def subscription_rows(rng, customers):
    for c in customers:
        if rng.random() >= 0.32:
            continue
        plan, price, _ = rng.choices(PLANS, weights=[p[2] for p in PLANS])[0]
        fee = DISCOUNTED[price] if rng.random() < 0.18 else price
        promo = weighted(rng, PROMO_CODES)
        auto_renew = rng.random() < 0.72
        score_value = min(0.9999, max(0.0001, 0.6 * c["risk"] + 0.4 * rng.betavariate(2, 4)
                                      + (0.0 if auto_renew else 0.12)))
        score = "%.4f" % score_value
        if rng.random() < 0.03:
            score, is_churn = "", ""
        else:
            is_churn = "1" if float(score) >= 0.5 else "0"
        renewal = AS_OF + datetime.timedelta(days=rng.randint(-20, 345))
        yield [c["id"], score, is_churn, plan, fee, iso(renewal),
               "true" if auto_renew else "false", promo]


def clv_rows(rng, customers):
    for c in customers:
        idle = (AS_OF - c["last_purchase"]).days
        if idle > 365 or rng.random() < 0.08:
            continue  # the model scores active customers only
        mu = 5.6 + 0.012 * c["tenure"] - 1.2 * c["risk"]
        clv = "%.2f" % rng.lognormvariate(mu, 0.9)
        tenure = "" if rng.random() < 0.01 else str(c["tenure"])
        country = weighted(rng, COUNTRIES)
        if rng.random() < 0.08:
            country = country.lower()  # typed by hand in the shop's back office
        yield [c["id"], clv, tenure, country]


def catalog(rng):
    """Products P0001.. with a popularity weight; P0042, the tent this season's campaign
    pushes, is among the most recommended."""
    products = [(category, name) for category, names in CATEGORIES.items() for name in names]
    rng.shuffle(products)
    hero = products.index(("Outdoor/Tents", "Trailblazer 2P Tent"))
    products[hero], products[41] = products[41], products[hero]
    products = [("P%04d" % (i + 1), category, name)
                for i, (category, name) in enumerate(products)]
    weights = [1 / (rank + 1) ** 0.9 for rank in range(len(products))]
    rng.shuffle(weights)
    weights[41] = max(weights) * 0.5
    return products, weights


def recommendation_rows(rng, customers):
    products, weights = catalog(rng)
    for c in customers:
        if rng.random() < 0.05:
            continue  # no purchase history, nothing to recommend
        k = rng.randint(3, 5)
        picked = []
        while len(picked) < k:
            index = rng.choices(range(len(products)), weights=weights)[0]
            if index not in picked:
                picked.append(index)
        score = rng.uniform(0.55, 0.99)
        for rank, index in enumerate(picked, start=1):
            product_id, category, _name = products[index]
            yield [c["id"], product_id, category, str(rank), "%.4f" % score]
            score -= rng.uniform(0.01, 0.12) * score


def campaign_rows(rng, customers):
    for c in customers:
        joined = []
        for name, channel, first, last, end in CAMPAIGNS:
            chance = 0.05
            if name == "vip-loyalty-2024":
                chance = 0.12 if c["tenure"] > 48 else 0.01
            elif name == "spring-winback-2024":
                chance = 0.15 if c["risk"] > 0.5 else 0.02
            if rng.random() < chance:
                start = datetime.date.fromisoformat(first) + datetime.timedelta(
                    days=rng.randint(0, (datetime.date.fromisoformat(last)
                                         - datetime.date.fromisoformat(first)).days))
                joined.append([c["id"], name, channel, iso(start), end or ""])
        yield from joined


def main():
    rng = random.Random(SEED)
    customers = make_customers(rng)
    write_csv("churn.csv",
              ["CustomerId", "ChurnScore", "IsChurn", "TopFactor", "Region", "ZipCode",
               "LastPurchaseDate", "Email", "Preferred Channel"],
              churn_rows(rng, customers), rng)
    write_csv("subscriptions.csv",
              ["CustomerId", "ChurnScore", "IsChurn", "Plan", "MonthlyFee", "RenewalDate",
               "AutoRenew", "PromoCode"],
              subscription_rows(rng, customers), rng)
    write_csv("clv.csv", ["CustomerId", "CLVScore", "TenureMonths", "Country"],
              clv_rows(rng, customers), rng)
    write_csv("recommendations.csv",
              ["CustomerId", "ProductID", "Category", "Rank", "Score"],
              recommendation_rows(rng, customers), rng)
    write_csv("campaigns.csv", ["CustomerId", "Campaign", "Channel", "StartDate", "EndDate"],
              campaign_rows(rng, customers), rng)


if __name__ == "__main__":
    main()
