"""Platform-neutral conversation handling: chat model, router, forms, flows."""
