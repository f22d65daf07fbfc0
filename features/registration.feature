@registration
Feature: Registering the appliance with Threat Response
  With the integration enabled and committed, paste a token generated in SSE and click Register
  (GUI) or use cloudserviceconfig > REGISTER (CLI). Registering needs no commit. Registration fails
  with an invalid token, an expired token, or a token generated in another region's SSE.

  Background:
    Given the appliance starts with cloud services disabled

  @req:REG-2 @req:REG-5 @gui
  Scenario: Registering in the GUI, as the technote shows it
    Given the appliance is waiting for a registration token
    And a registration token from the "nam" SSE
    When I open "Network > Cloud Service Settings" in the GUI
    And I enter "<token>" into "Registration Token"
    And I click "Register"
    Then the page shows "Success — A request to register your appliance with the Cisco Threat Response portal is initiated. Navigate back to this page after some time to check the appliance status."
    And the page shows the status "The appliance registration is in progress. Navigate back to this page after some time to check the appliance status."
    And within the registration deadline the page shows the status "The <product> is successfully registered with the Cisco Threat Response portal."
    And Network > Cloud Service Settings offers a "Deregister" button

  @req:REG-3 @cli
  Scenario: cloudserviceconfig offers REGISTER and SETTRS while the appliance is not registered
    Given the appliance is waiting for a registration token
    When I run "cloudserviceconfig" in the CLI
    Then the CLI offers only the operations "REGISTER, SETTRS"
    And the CLI output contains "REGISTER - To register the appliance with the Cisco Threat Response portal."
    And the CLI output contains "Set the Threat Response Server to connect to the Cisco Threat Response portal."

  @req:REG-3 @cli
  Scenario: Registering in the CLI, as the user guide transcript shows it, needs no commit
    Given the appliance is waiting for a registration token
    And a registration token from the "nam" SSE
    When I run "cloudserviceconfig" in the CLI and answer:
      | question                                                                          | answer   |
      | Choose the operation you want to perform:                                         | register |
      | Enter a registration token key to register your appliance with the Cisco Threat   | <token>  |
    Then the CLI output contains "The appliance registration is in progress."
    And the CLI has no uncommitted changes
    And within the registration deadline the appliance is registered with Threat Response

  @req:REG-2 @req:REG-3 @req:PRE-3
  Scenario Outline: Registering through the <interface> in the <region> region
    Given the appliance is waiting for a registration token on server "<server>"
    When I register the appliance with a new token from the "<region>" SSE through the <interface>
    Then within the registration deadline the appliance is registered with Threat Response
    And the "<region>" SSE lists the appliance as "Registered"

    @gui @region:nam
    Examples: GUI, Americas
      | interface | server   | region |
      | GUI       | AMERICAS | nam    |

    @gui @region:eu
    Examples: GUI, Europe
      | interface | server | region |
      | GUI       | EUROPE | eu     |

    @cli @region:nam
    Examples: CLI, Americas
      | interface | server   | region |
      | CLI       | AMERICAS | nam    |

    @cli @region:eu
    Examples: CLI, Europe
      | interface | server | region |
      | CLI       | EUROPE | eu     |

  @req:REG-8 @req:TS-4 @gui
  Scenario Outline: Registration through the GUI fails with <problem>
    Given the appliance is waiting for a registration token on server "<server>"
    And <source>
    When I register the appliance with the token through the GUI
    Then within the registration deadline the registration fails
    And the status reads "The registration failed because of an invalid or expired token."
    And the appliance is not listed in any SSE as "Registered"

    Examples:
      | problem                  | server   | source                                                             |
      | a made-up token          | AMERICAS | a made-up registration token "0123456789abcdef0123456789abcdef"    |
      | a malformed token        | AMERICAS | a made-up registration token "not-a-token"                         |
      | a token from EU SSE      | AMERICAS | a registration token from the "eu" SSE                             |
      | a token from NAM SSE     | EUROPE   | a registration token from the "nam" SSE                            |

  @req:REG-8 @req:TS-4 @cli
  Scenario Outline: Registration through the CLI fails with <problem>: the CLI asks for a token again
    Given the appliance is waiting for a registration token on server "<server>"
    And <source>
    When I register the appliance with the token through the CLI
    Then within the registration deadline the registration fails
    And the appliance is not listed in any SSE as "Registered"

    Examples:
      | problem                  | server   | source                                                             |
      | a made-up token          | AMERICAS | a made-up registration token "0123456789abcdef0123456789abcdef"    |
      | a malformed token        | AMERICAS | a made-up registration token "not-a-token"                         |
      | a token from EU SSE      | AMERICAS | a registration token from the "eu" SSE                             |
      | a token from NAM SSE     | EUROPE   | a registration token from the "nam" SSE                            |

  @req:REG-8 @req:TS-4 @gui
  Scenario: Registration through the GUI fails with an expired token
    Given the appliance is waiting for a registration token
    And an expired registration token from the "nam" SSE
    When I register the appliance with the token through the GUI
    Then within the registration deadline the registration fails
    And the status reads "The registration failed because of an invalid or expired token."

  @req:REG-8 @req:TS-4 @cli
  Scenario: Registration through the CLI fails with an expired token
    Given the appliance is waiting for a registration token
    And an expired registration token from the "nam" SSE
    When I register the appliance with the token through the CLI
    Then within the registration deadline the registration fails
    And the appliance is not listed in any SSE as "Registered"

  @req:REG-2 @gui
  Scenario: An empty token does not start a registration
    Given the appliance is waiting for a registration token
    When I open "Network > Cloud Service Settings" in the GUI
    And I enter "" into "Registration Token"
    And I click "Register"
    Then the page does not show "A request to register your appliance with the Cisco Threat Response portal is initiated."
    And the page shows a "Registration Token" field and a "Register" button

  @req:REG-3 @req:TS-3 @cli
  Scenario: cloudserviceconfig asks for no token before the integration is enabled
    When I run "cloudserviceconfig" in the CLI and answer:
      | question                                  | answer   |
      | Choose the operation you want to perform: | REGISTER |
    Then the CLI output does not contain "Enter a registration token key"
    And the CLI does not ask for a registration token

  @req:REG-2 @req:ENA-4 @gui
  Scenario: The page asks for no token while the cloud service is busy
    When I enable Threat Response with server "AMERICAS" through the GUI
    Then the page shows the status "The Cisco Cloud Service is busy. Navigate back to this page after some time to check the appliance status."
    And the page shows no "Registration Token" field
