//! The resources Tiltas uses, as PrestaShop's Webservice declares them (`?schema=synopsis`,
//! PrestaShop/docs `webservice/resources/*.md`): their fields in order, which are required,
//! read-only (a PUT or POST that carries them is refused "not writable") or language-keyed,
//! and their associations. The connector strips read-only fields before a full-replace PUT;
//! the simulator validates writes against the same table.

/// One field of a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    /// Its element name.
    pub name: &'static str,
    /// A POST or PUT without it is refused (`parameter "x" required`).
    pub required: bool,
    /// Computed by PrestaShop: a POST or PUT that carries it is refused (`not writable`).
    pub read_only: bool,
    /// One value per language (`<name><language id="1">…</language></name>`).
    pub language: bool,
}

const fn plain(name: &'static str) -> Field {
    Field {
        name,
        required: false,
        read_only: false,
        language: false,
    }
}

const fn required(name: &'static str) -> Field {
    Field {
        required: true,
        ..plain(name)
    }
}

const fn read_only(name: &'static str) -> Field {
    Field {
        read_only: true,
        ..plain(name)
    }
}

const fn language(name: &'static str) -> Field {
    Field {
        language: true,
        ..plain(name)
    }
}

const fn required_language(name: &'static str) -> Field {
    Field {
        required: true,
        language: true,
        ..plain(name)
    }
}

/// An association of a resource (`<associations><categories><category><id>…`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Association {
    /// The list's element (`categories`).
    pub name: &'static str,
    /// Each item's element (`category`).
    pub item: &'static str,
    /// The fields of an item (`id`, …).
    pub fields: &'static [&'static str],
}

/// One resource of the Webservice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resource {
    /// Its collection (`products`), the URL path below `/api/`.
    pub collection: &'static str,
    /// Its element (`product`).
    pub element: &'static str,
    /// Its fields, `id` first, in PrestaShop's order.
    pub fields: &'static [Field],
    /// Its associations.
    pub associations: &'static [Association],
}

impl Resource {
    /// The field called `name`.
    pub fn field(&self, name: &str) -> Option<&'static Field> {
        self.fields.iter().find(|field| field.name == name)
    }
}

/// `products`.
pub const PRODUCTS: Resource = Resource {
    collection: "products",
    element: "product",
    fields: &[
        plain("id"),
        plain("id_manufacturer"),
        plain("id_supplier"),
        plain("id_category_default"),
        plain("new"),
        plain("cache_default_attribute"),
        plain("id_default_image"),
        plain("id_default_combination"),
        plain("id_tax_rules_group"),
        // Writable: PrestaShop has a setter for it (`setWsPositionInCategory`).
        plain("position_in_category"),
        read_only("manufacturer_name"),
        read_only("quantity"),
        plain("type"),
        plain("id_shop_default"),
        plain("state"),
        plain("reference"),
        plain("supplier_reference"),
        plain("ean13"),
        plain("upc"),
        plain("weight"),
        plain("on_sale"),
        plain("minimal_quantity"),
        required("price"),
        plain("wholesale_price"),
        plain("unity"),
        plain("active"),
        plain("available_for_order"),
        plain("condition"),
        plain("show_price"),
        plain("visibility"),
        plain("date_add"),
        plain("date_upd"),
        language("meta_description"),
        language("meta_title"),
        language("link_rewrite"),
        required_language("name"),
        language("description"),
        language("description_short"),
    ],
    associations: &[
        Association {
            name: "categories",
            item: "category",
            fields: &["id"],
        },
        Association {
            name: "combinations",
            item: "combination",
            fields: &["id"],
        },
        Association {
            name: "product_option_values",
            item: "product_option_value",
            fields: &["id"],
        },
        Association {
            name: "stock_availables",
            item: "stock_available",
            fields: &["id", "id_product_attribute"],
        },
    ],
};

/// `combinations`: a product's variants.
pub const COMBINATIONS: Resource = Resource {
    collection: "combinations",
    element: "combination",
    fields: &[
        plain("id"),
        required("id_product"),
        plain("location"),
        plain("ean13"),
        plain("upc"),
        read_only("quantity"),
        plain("reference"),
        plain("supplier_reference"),
        plain("wholesale_price"),
        plain("price"),
        plain("ecotax"),
        plain("weight"),
        plain("unit_price_impact"),
        required("minimal_quantity"),
        plain("default_on"),
        plain("available_date"),
    ],
    associations: &[Association {
        name: "product_option_values",
        item: "product_option_value",
        fields: &["id"],
    }],
};

/// `product_options`: attribute groups (Size, Colour).
pub const PRODUCT_OPTIONS: Resource = Resource {
    collection: "product_options",
    element: "product_option",
    fields: &[
        plain("id"),
        plain("is_color_group"),
        required("group_type"),
        plain("position"),
        required_language("name"),
        required_language("public_name"),
    ],
    associations: &[Association {
        name: "product_option_values",
        item: "product_option_value",
        fields: &["id"],
    }],
};

/// `product_option_values`: attribute values (M, Black).
pub const PRODUCT_OPTION_VALUES: Resource = Resource {
    collection: "product_option_values",
    element: "product_option_value",
    fields: &[
        plain("id"),
        required("id_attribute_group"),
        plain("color"),
        plain("position"),
        required_language("name"),
    ],
    associations: &[],
};

/// `stock_availables`: the only place stock lives, one row per product and combination.
pub const STOCK_AVAILABLES: Resource = Resource {
    collection: "stock_availables",
    element: "stock_available",
    fields: &[
        plain("id"),
        required("id_product"),
        required("id_product_attribute"),
        plain("id_shop"),
        plain("id_shop_group"),
        required("quantity"),
        required("depends_on_stock"),
        required("out_of_stock"),
        plain("location"),
    ],
    associations: &[],
};

/// `categories`.
pub const CATEGORIES: Resource = Resource {
    collection: "categories",
    element: "category",
    fields: &[
        plain("id"),
        plain("id_parent"),
        read_only("level_depth"),
        read_only("nb_products_recursive"),
        required("active"),
        plain("id_shop_default"),
        plain("is_root_category"),
        plain("position"),
        plain("date_add"),
        plain("date_upd"),
        required_language("name"),
        required_language("link_rewrite"),
        language("description"),
    ],
    associations: &[],
};

/// `customers`.
pub const CUSTOMERS: Resource = Resource {
    collection: "customers",
    element: "customer",
    fields: &[
        plain("id"),
        plain("id_default_group"),
        plain("id_lang"),
        plain("newsletter_date_add"),
        // PrestaShop ignores these on writes (no setter) rather than refusing them.
        plain("last_passwd_gen"),
        plain("secure_key"),
        plain("deleted"),
        required("passwd"),
        required("lastname"),
        required("firstname"),
        required("email"),
        plain("id_gender"),
        plain("birthday"),
        plain("newsletter"),
        plain("optin"),
        plain("company"),
        plain("siret"),
        plain("note"),
        plain("active"),
        plain("is_guest"),
        plain("id_shop"),
        plain("date_add"),
        plain("date_upd"),
    ],
    associations: &[Association {
        name: "groups",
        item: "group",
        fields: &["id"],
    }],
};

/// `addresses`: a customer's (`id_customer`), one resource each.
pub const ADDRESSES: Resource = Resource {
    collection: "addresses",
    element: "address",
    fields: &[
        plain("id"),
        plain("id_customer"),
        plain("id_manufacturer"),
        plain("id_supplier"),
        plain("id_warehouse"),
        required("id_country"),
        plain("id_state"),
        required("alias"),
        plain("company"),
        required("lastname"),
        required("firstname"),
        plain("vat_number"),
        required("address1"),
        plain("address2"),
        plain("postcode"),
        required("city"),
        plain("other"),
        plain("phone"),
        plain("phone_mobile"),
        plain("dni"),
        plain("deleted"),
        plain("date_add"),
        plain("date_upd"),
    ],
    associations: &[],
};

/// `orders`.
pub const ORDERS: Resource = Resource {
    collection: "orders",
    element: "order",
    fields: &[
        plain("id"),
        required("id_address_delivery"),
        required("id_address_invoice"),
        required("id_cart"),
        required("id_currency"),
        required("id_lang"),
        required("id_customer"),
        required("id_carrier"),
        plain("current_state"),
        required("module"),
        plain("invoice_number"),
        plain("invoice_date"),
        plain("delivery_number"),
        plain("delivery_date"),
        plain("valid"),
        plain("date_add"),
        plain("date_upd"),
        plain("shipping_number"),
        plain("id_shop_group"),
        plain("id_shop"),
        plain("secure_key"),
        required("payment"),
        plain("recyclable"),
        plain("gift"),
        plain("gift_message"),
        plain("mobile_theme"),
        plain("total_discounts"),
        plain("total_discounts_tax_incl"),
        plain("total_discounts_tax_excl"),
        required("total_paid"),
        plain("total_paid_tax_incl"),
        plain("total_paid_tax_excl"),
        required("total_paid_real"),
        required("total_products"),
        required("total_products_wt"),
        plain("total_shipping"),
        plain("total_shipping_tax_incl"),
        plain("total_shipping_tax_excl"),
        plain("carrier_tax_rate"),
        plain("total_wrapping"),
        required("conversion_rate"),
        plain("reference"),
    ],
    associations: &[Association {
        name: "order_rows",
        item: "order_row",
        fields: &[
            "id",
            "product_id",
            "product_attribute_id",
            "product_quantity",
            "product_name",
            "product_reference",
            "product_ean13",
            "product_price",
            "id_customization",
            "unit_price_tax_incl",
            "unit_price_tax_excl",
        ],
    }],
};

/// `order_histories`: a POST changes an order's state.
pub const ORDER_HISTORIES: Resource = Resource {
    collection: "order_histories",
    element: "order_history",
    fields: &[
        plain("id"),
        plain("id_employee"),
        required("id_order_state"),
        required("id_order"),
        plain("date_add"),
    ],
    associations: &[],
};

/// `order_states`.
pub const ORDER_STATES: Resource = Resource {
    collection: "order_states",
    element: "order_state",
    fields: &[
        plain("id"),
        plain("paid"),
        plain("shipped"),
        plain("delivery"),
        plain("color"),
        required_language("name"),
    ],
    associations: &[],
};

/// `countries`: addresses name theirs by id.
pub const COUNTRIES: Resource = Resource {
    collection: "countries",
    element: "country",
    fields: &[
        plain("id"),
        plain("id_zone"),
        required("iso_code"),
        plain("active"),
        required_language("name"),
    ],
    associations: &[],
};

/// `currencies`: orders name theirs by id.
pub const CURRENCIES: Resource = Resource {
    collection: "currencies",
    element: "currency",
    fields: &[
        plain("id"),
        required("iso_code"),
        required("conversion_rate"),
        plain("active"),
        plain("name"),
    ],
    associations: &[],
};

/// Every resource above.
pub const RESOURCES: &[Resource] = &[
    PRODUCTS,
    COMBINATIONS,
    PRODUCT_OPTIONS,
    PRODUCT_OPTION_VALUES,
    STOCK_AVAILABLES,
    CATEGORIES,
    CUSTOMERS,
    ADDRESSES,
    ORDERS,
    ORDER_HISTORIES,
    ORDER_STATES,
    COUNTRIES,
    CURRENCIES,
];

/// The resource of a collection.
pub fn resource(collection: &str) -> Option<&'static Resource> {
    RESOURCES.iter().find(|resource| resource.collection == collection)
}
