"""Dynamic number insertion: classifying visits, leasing pool numbers, sizing pools, the snippet."""
