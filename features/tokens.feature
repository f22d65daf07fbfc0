@tokens
Feature: Registration tokens from Security Services Exchange
  SSE Devices > "Add Devices and Generate Tokens": the number of devices is 1 to 100, the token
  expiration time one of 1, 2, 4, 6, 8, 12 hours or 1 to 5 days (default 1 hour). A token looks like
  32 hexadecimal digits.

  @req:REG-1
  Scenario Outline: A token can be generated for every documented expiration time (<expiry>)
    When I generate 1 registration token in SSE expiring in "<expiry>"
    Then SSE returns 1 token
    And every token is 32 hexadecimal digits
    And the tokens are valid for "<expiry>"

    Examples: hours
      | expiry   |
      | 1 hour   |
      | 2 hours  |
      | 4 hours  |
      | 6 hours  |
      | 8 hours  |
      | 12 hours |

    Examples: days
      | expiry |
      | 1 day  |
      | 2 days |
      | 3 days |
      | 4 days |
      | 5 days |

  @req:REG-1
  Scenario: The default token expiration time is 1 hour
    When I generate 1 registration token in SSE
    Then the tokens are valid for "1 hour"

  @req:REG-1
  Scenario Outline: Tokens for <count> devices at once are all distinct
    When I generate <count> registration tokens in SSE expiring in "2 hours"
    Then SSE returns <count> tokens
    And every token is 32 hexadecimal digits
    And the tokens are all different

    Examples:
      | count |
      | 1     |
      | 5     |
      | 100   |

  @req:REG-1
  Scenario Outline: SSE refuses <count> devices
    When I try to generate <count> registration tokens in SSE expiring in "1 hour"
    Then SSE refuses the request

    Examples:
      | count |
      | 0     |
      | 101   |

  @req:REG-1
  Scenario Outline: SSE refuses an expiration time it does not offer (<expiry>)
    When I try to generate 1 registration token in SSE expiring in "<expiry>"
    Then SSE refuses the request

    Examples:
      | expiry  |
      | 3 hours |
      | 6 days  |

  @req:REG-1 @req:REG-2 @gui
  Scenario: Any one of a batch of tokens registers the appliance
    Given the appliance is waiting for a registration token
    When I generate 5 registration tokens in SSE expiring in "2 hours"
    And I register the appliance with token 3 of the batch through the GUI
    Then within the registration deadline the appliance is registered with Threat Response

  @req:REG-1
  Scenario: Generated tokens can be saved to a file
    When I generate 3 registration tokens in SSE expiring in "4 hours"
    And I save the tokens to a file
    Then the file lists the same 3 tokens, one per line
