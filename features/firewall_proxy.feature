@network
Feature: Firewall and proxy between the appliance and the cloud
  When no proxy server is used, HTTPS port 443 must be open, in and out, between the appliance and
  every FQDN of its region: api-sse.cisco.com (Americas), api.eu.sse.itd.cisco.com (Europe),
  api.apj.sse.itd.cisco.com (APJC, SecureX era), and est.sco.cisco.com (every region). With a proxy,
  the appliance reaches the cloud through the proxy. A blocked FQDN breaks registration; opening it
  again fixes it.

  Background:
    Given the appliance starts with cloud services disabled

  @req:PRE-3 @req:REG-8 @cli
  Scenario Outline: A firewall that <action>s HTTPS to "<fqdn>" makes registration fail until it is opened
    Given the appliance is waiting for a registration token on server "<server>"
    And the firewall <action>s HTTPS to "<fqdn>"
    And a registration token from the "<region>" SSE
    When I register the appliance with the token through the CLI
    Then within the registration deadline the registration fails
    When the firewall allows HTTPS to "<fqdn>"
    And I register the appliance with a new token from the "<region>" SSE through the CLI
    Then within the registration deadline the appliance is registered with Threat Response

    @region:nam
    Examples: Americas
      | server   | region | fqdn              | action |
      | AMERICAS | nam    | api-sse.cisco.com | drop   |
      | AMERICAS | nam    | est.sco.cisco.com | reject |

    @region:eu
    Examples: Europe
      | server | region | fqdn                     | action |
      | EUROPE | eu     | api.eu.sse.itd.cisco.com | reject |
      | EUROPE | eu     | est.sco.cisco.com        | reject |

  @req:PRE-3 @gui
  Scenario Outline: Blocking another region's FQDN does not affect registration in "<region>"
    Given the appliance is waiting for a registration token on server "<server>"
    And the firewall drops HTTPS to "<other_fqdn>"
    When I register the appliance with a new token from the "<region>" SSE through the GUI
    Then within the registration deadline the appliance is registered with Threat Response

    @region:nam
    Examples: Americas ignores Europe and APJC
      | server   | region | other_fqdn                |
      | AMERICAS | nam    | api.eu.sse.itd.cisco.com  |
      | AMERICAS | nam    | api.apj.sse.itd.cisco.com |

    @region:eu
    Examples: Europe ignores the Americas
      | server | region | other_fqdn        |
      | EUROPE | eu     | api-sse.cisco.com |

  @req:PRE-3 @req:ENA-3 @region:apjc @cli
  Scenario: A SecureX-era appliance in APJC needs api.apj.sse.itd.cisco.com open
    Given the appliance runs AsyncOS "14.0.0-692"
    And the appliance is waiting for a registration token on server "APJC"
    And the firewall rejects HTTPS to "api.apj.sse.itd.cisco.com"
    When I register the appliance with a new token from the "apjc" SSE through the CLI
    Then within the registration deadline the registration fails
    When the firewall allows HTTPS to "api.apj.sse.itd.cisco.com"
    And I register the appliance with a new token from the "apjc" SSE through the CLI
    Then within the registration deadline the appliance is registered with Threat Response

  @req:PRE-4 @cli
  Scenario: With a proxy, the appliance reaches the cloud through the proxy
    Given the appliance reaches the cloud through the lab proxy
    And the appliance is waiting for a registration token on server "AMERICAS"
    When I register the appliance with a new token from the "nam" SSE through the CLI
    Then within the registration deadline the appliance is registered with Threat Response
    And the lab proxy carried a connection to "api-sse.cisco.com"
    And the lab proxy carried a connection to "est.sco.cisco.com"

  @req:PRE-4 @cli
  Scenario: With a proxy that denies the SSE FQDN, registration fails until the proxy allows it
    Given the appliance reaches the cloud through the lab proxy
    And the appliance is waiting for a registration token on server "AMERICAS"
    And the lab proxy denies "api-sse.cisco.com"
    When I register the appliance with a new token from the "nam" SSE through the CLI
    Then within the registration deadline the registration fails
    When the lab proxy allows every destination again
    And I register the appliance with a new token from the "nam" SSE through the CLI
    Then within the registration deadline the appliance is registered with Threat Response

  @req:PRE-3
  Scenario Outline: On a healthy lab the network check finds every FQDN of the "<region>" region reachable
    When I run the network check for the "<region>" region
    Then the network check finds every FQDN of the region reachable, est.sco.cisco.com included

    Examples:
      | region |
      | nam    |
      | eu     |
      | apjc   |

  @req:PRE-3
  Scenario Outline: The network check names the FQDN that is blocked and how: <cause>
    Given <cause>
    When I run the network check for the "<region>" region
    Then the network check reports "<fqdn>" as "<verdict>"
    And the network check finds every FQDN of the region but "<fqdn>" reachable

    Examples:
      | region | fqdn                     | cause                                                      | verdict                     |
      | nam    | api-sse.cisco.com        | the firewall drops HTTPS to "api-sse.cisco.com"            | silently dropped (filtered) |
      | nam    | est.sco.cisco.com        | the firewall rejects HTTPS to "est.sco.cisco.com"          | refused                     |
      | eu     | api.eu.sse.itd.cisco.com | the lab's DNS does not resolve "api.eu.sse.itd.cisco.com"  | no DNS answer               |
      | nam    | api-sse.cisco.com        | a middlebox intercepts TLS to "api-sse.cisco.com"          | TLS intercepted             |
