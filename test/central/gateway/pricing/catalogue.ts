/**
 * Entries in the format of LiteLLM's model_prices_and_context_window.json (USD per token), as
 * its catalogue lists these models, for the pricing tests.
 */
export const LITELLM_SAMPLE = {
  sample_spec: { input_cost_per_token: 0, output_cost_per_token: 0, max_input_tokens: 1 },
  "claude-sonnet-4-5": {
    max_tokens: 64000,
    max_input_tokens: 200000,
    max_output_tokens: 64000,
    input_cost_per_token: 3e-6,
    output_cost_per_token: 1.5e-5,
    cache_creation_input_token_cost: 3.75e-6,
    cache_creation_input_token_cost_above_1hr: 6e-6,
    cache_read_input_token_cost: 3e-7,
    input_cost_per_token_above_200k_tokens: 6e-6,
    output_cost_per_token_above_200k_tokens: 2.25e-5,
    cache_creation_input_token_cost_above_200k_tokens: 7.5e-6,
    cache_read_input_token_cost_above_200k_tokens: 6e-7,
    cache_creation_input_token_cost_above_1hr_above_200k_tokens: 1.2e-5,
    litellm_provider: "anthropic",
    mode: "chat",
  },
  "gpt-4.1-mini": {
    max_tokens: 32768,
    max_input_tokens: 1047576,
    max_output_tokens: 32768,
    input_cost_per_token: 4e-7,
    output_cost_per_token: 1.6e-6,
    cache_read_input_token_cost: 1e-7,
    litellm_provider: "openai",
    mode: "chat",
  },
  "azure/gpt-4o": {
    max_input_tokens: 128000,
    max_output_tokens: 16384,
    input_cost_per_token: 2.5e-6,
    output_cost_per_token: 1e-5,
    cache_read_input_token_cost: 1.25e-6,
    litellm_provider: "azure",
    mode: "chat",
  },
  "dall-e-3": { output_cost_per_image: 0.04, litellm_provider: "openai", mode: "image_generation" },
};
