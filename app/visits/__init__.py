"""The field app: planning, shoppers' visit list, the phone form, its API, photos and submission."""
