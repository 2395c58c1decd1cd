"""The tenant engine: what each business's bot says and how, and its LLM."""
